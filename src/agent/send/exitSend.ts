/**
 * `sendSessionsOnExit` without a service worker controlling the page. The session carries the
 * `sendOnExit` mark on its own record; at exit its tab tells the product's other tabs (send/start.ts),
 * and the next page load looks for marked sessions that have ended. Loaded with the send side. Whoever does it sends them with full
 * detail, one context at a time (a product-wide lock), and never a session already sent whole.
 */
import { allSessions } from '../../core/db/sessions.js';
import { prepareExitSend } from '../../core/send/onExit.js';
import { sendPass } from '../../core/send/pass.js';
import { isChannelMessage } from '../../shared/channel.js';
import { channelName, exitSendLockName } from '../../shared/names.js';
import { background } from '../tools/monitor.js';
import type { SendLinkDeps } from './types.js';
import { compressInWorker } from './workerCompress.js';

export interface ExitSend {
  stop(): void;
}

export const startExitSend = (deps: SendLinkDeps): ExitSend => {
  const product = deps.options().product;
  const channel = typeof BroadcastChannel === 'function' ? new BroadcastChannel(channelName(product)) : undefined;

  const send = async (ids: readonly string[]): Promise<void> => {
    const db = deps.database();
    const s = deps.options().server;
    if (!db || !s.url || !s.ingestKey || ids.length === 0 || deps.stopped()) return;
    const { url, ingestKey } = s;
    const run = async (): Promise<void> => {
      if (!(await deps.consent.allowed())) return;
      const ready: string[] = [];
      for (const id of ids) if (await prepareExitSend(db, id, { locks: deps.locks })) ready.push(id);
      if (ready.length === 0 || deps.stopped()) return;
      await sendPass({
        db,
        target: { url, ingestKey },
        product,
        purge: s.purgeSentSessions,
        compress: (id) => compressInWorker(deps.options().workerUrl, product, id),
        locks: deps.locks,
        now: deps.now,
        only: new Set(ready),
        markCrashed: deps.markCrashed,
        allowed: deps.consent.allowed,
      });
      // A failure leaves the mark (and the delivery row's forceSend): the next page load, or the sender, tries again.
    };
    // A second tab hearing the same exit waits here, then finds the session sent (prepareExitSend says no).
    if (deps.locks) await deps.locks.request(exitSendLockName(product), run);
    else await run();
  };

  const onMessage = (e: MessageEvent): void => {
    const m: unknown = e.data;
    if (isChannelMessage(m) && m.type === 'exit-send') background('exit send', send([m.sessionId]));
  };
  channel?.addEventListener('message', onMessage);

  // This page load: marked sessions of earlier pages that have ended (or crashed) and wait.
  const db = deps.database();
  if (db)
    background(
      'exit send',
      allSessions(db).then((all) =>
        send(all.filter((r) => r.sendOnExit && r.status !== 'running' && r.product === product && r.id !== deps.sessionId()).map((r) => r.id)),
      ),
    );

  return {
    stop() {
      channel?.removeEventListener('message', onMessage);
      channel?.close();
    },
  };
};
