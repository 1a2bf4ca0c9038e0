/**
 * Send on exit (`sendSessionsOnExit`), the part every context shares: wait for the page's exit
 * write, then mark the session's delivery row so its summary asks for the detail whatever the
 * product's policy. The service worker runs it when the page hands the session over; without a
 * service worker, another tab or the next page load runs it for each session marked `sendOnExit`.
 */
import { updateDelivery } from '../db/delivery.js';
import type { FerryDatabase } from '../db/open.js';
import { markCrashedSessions } from '../session/crashed.js';

export interface ExitSendOptions {
  locks?: LockManager;
  /** How long to wait for the page's exit write before crash detection decides. @defaultValue 5000 */
  waitMs?: number;
  sleep?: (ms: number) => Promise<void>;
}

const STEP_MS = 100;

/**
 * Resolves true when the session is to be sent now (its row says `forceSend`), false when there
 * is nothing to send: it is gone, or already sent whole — a session is never sent twice.
 */
export const prepareExitSend = async (db: FerryDatabase, sessionId: string, o: ExitSendOptions = {}): Promise<boolean> => {
  const sleep = o.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const tries = Math.max(1, Math.ceil((o.waitMs ?? 5_000) / STEP_MS));
  // The page's exit transaction may still be committing: wait (bounded) for "ended"; past that
  // its tab is gone, and crash detection decides (its live lock is free by then).
  for (let i = 0; i < tries; i++) {
    const s = await db.get('sessions', sessionId);
    if (!s) return false;
    if (s.status !== 'running') break;
    if (i === tries - 1) await markCrashedSessions(db, { locks: o.locks });
    else await sleep(STEP_MS);
  }
  const row = await updateDelivery(db, sessionId, 'send-on-exit', (d) => {
    if (d.detailState === 'sent') return false; // never sent twice
    if (d.forceSend && d.detailState !== 'not-wanted') return; // already marked: unchanged
    d.forceSend = true;
    // A summary already answered "not wanted" is asked again, now with force.
    if (d.detailState === 'not-wanted') {
      d.summarySentAt = undefined;
      d.detailState = undefined;
    }
  });
  return row !== undefined;
};
