// A live session holds the Web Lock `ferry:live:<id>` for its whole life (crash detection in
// src/core/session reads it); where Web Locks are missing, a heartbeat stands in.
import { liveLockName } from '../../shared/names.js';
import { monitorError } from '../tools/monitor.js';

export interface HeldLock {
  /** Resolves once the lock is held (immediately when Web Locks are missing). */
  acquired: Promise<void>;
  release(): void;
}

export const holdLiveLock = (sessionId: string, locks: LockManager | undefined): HeldLock => {
  if (!locks) return { acquired: Promise.resolve(), release: () => {} };
  let release = (): void => {};
  const held = new Promise<void>((r) => (release = r));
  let granted = (): void => {};
  const acquired = new Promise<void>((r) => (granted = r));
  locks
    .request(liveLockName(sessionId), () => {
      granted();
      return held;
    })
    .catch((e: unknown) => {
      granted();
      monitorError('live lock', e);
    });
  return { acquired, release: () => release() };
};
