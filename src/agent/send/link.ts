/**
 * What start-up needs of sending: a place for send requests to wait, and the decision to load the
 * send side (send/start.ts) — only when a collector or a service worker is configured, so a page
 * without one never downloads it.
 */
import type { ResolvedOptions } from '../config/options.js';
import { lazyPart } from '../tools/lazyPart.js';
import type * as StartModule from './start.js';
import type { SendSide } from './start.js';
import type { SendLinkDeps, SendReason } from './types.js';

export type { SendLinkDeps, SendReason } from './types.js';

export interface SendLink {
  /** After start-up: loads the send side when the options ask for one. */
  start(): void;
  /** Asks the elected sender to check now; `sessionId` (after an error) is sent as it stands. */
  requestSend(reason: SendReason, sessionId?: string): void;
  /** Options changed at run time. */
  reconfigure(before: ResolvedOptions): void;
  /** Un-parks every parked session (and has the sender check now); resolves with how many. */
  retryParked(): Promise<number>;
  /** pagehide: hands the session to the service worker when sendSessionsOnExit asks for it. */
  exit(): void;
  stop(): void;
}

/** Requests made before the sender has loaded (an error in a page's first moments) wait for it, up to this many. */
const MAX_EARLY_REQUESTS = 10;

const wanted = (o: ResolvedOptions): boolean => Boolean((o.server.url && o.server.ingestKey) || o.serviceWorker);

export const createSendLink = (deps: SendLinkDeps): SendLink => {
  let side: SendSide | undefined;
  let started = false;
  let early: { reason: SendReason; sessionId?: string }[] = [];
  let startModule: typeof StartModule | undefined;

  const part = lazyPart({
    what: 'send side',
    load: () => import('./start.js'),
    ready: (m) => {
      startModule = m;
      load();
    },
    stopped: deps.stopped,
  });

  const load = (): void => {
    if (side || !started || !deps.database() || !wanted(deps.options())) return;
    if (!startModule) {
      part.load();
      return;
    }
    side = startModule.startSendSide(deps, early);
    early = [];
  };

  return {
    start() {
      started = true;
      load();
    },
    requestSend(reason, sessionId) {
      const s = deps.options().server;
      if (side) side.requestSend(reason, sessionId);
      else if (s.url && s.autoSendSessions && early.length < MAX_EARLY_REQUESTS) early.push({ reason, sessionId });
    },
    reconfigure(before) {
      if (side) side.reconfigure(before);
      else load();
    },
    async retryParked() {
      if (side) return side.retryParked();
      const db = deps.database();
      if (!db) return 0;
      // No send side loaded (no collector configured yet): un-park only; a sender, once configured, sends them.
      // The sender's chunk holds the un-parking code: nothing of it is loaded at start-up.
      const { unparkAll } = await import('./sender.js');
      return (await unparkAll(db, deps.now())).length;
    },
    exit() {
      side?.exit();
    },
    stop() {
      part.cancel();
      side?.stop();
    },
  };
};
