/**
 * The user's consent answer. Its one copy lives in the product database's `meta` store, read by
 * every tab and the service worker; a change is also broadcast, so other tabs stop (or start)
 * sending at once instead of at their next read.
 */

import { getMeta, putMeta } from '../../core/db/meta.js';
import type { FerryDatabase } from '../../core/db/open.js';
import { type ChannelMessage, isChannelMessage } from '../../shared/channel.js';
import { monitorError } from '../tools/monitor.js';

export interface ConsentDeps {
  /** The product's channel (the agent's; it closes it). */
  channel: BroadcastChannel | undefined;
  database: () => FerryDatabase | undefined;
  /** consent.required: without it, consent never holds anything back. */
  required: () => boolean;
  now: () => number;
  /** The answer changed (here or in another tab). */
  changed: (granted: boolean) => void;
}

export interface ConsentState {
  /** Reads the stored answer (at start). */
  load(): Promise<void>;
  /** The last answer this tab knows of. */
  granted(): boolean;
  /** Whether the user has answered at all (in any tab, at any time). */
  answered(): boolean;
  /** Whether automatic sending may run now, read from the stored copy. */
  allowed(): Promise<boolean>;
  set(granted: boolean): Promise<void>;
  stop(): void;
}

export const createConsent = (deps: ConsentDeps): ConsentState => {
  /** undefined: never answered. */
  let known: boolean | undefined;
  const { channel } = deps;
  const onMessage = (e: MessageEvent): void => {
    const m: unknown = e.data;
    if (!isChannelMessage(m) || m.type !== 'consent') return;
    known = m.granted;
    deps.changed(m.granted);
  };
  channel?.addEventListener('message', onMessage);

  const read = async (): Promise<boolean> => {
    const db = deps.database();
    if (!db) return known === true;
    known = (await getMeta(db, 'consent'))?.granted;
    return known === true;
  };

  return {
    load: async () => void (await read()),
    granted: () => known === true,
    answered: () => known !== undefined,
    allowed: async () => !deps.required() || (await read()),
    async set(granted) {
      known = granted;
      const at = deps.now();
      const db = deps.database();
      if (db) await putMeta(db, 'consent', { granted, at });
      const message: ChannelMessage = { type: 'consent', granted, at };
      try {
        channel?.postMessage(message);
      } catch (e) {
        monitorError('channel', e);
      }
      deps.changed(granted);
    },
    stop() {
      channel?.removeEventListener('message', onMessage);
    },
  };
};
