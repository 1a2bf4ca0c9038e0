// A live session holds the Web Lock `ferry:live:<id>` for its life; a `running` session
// whose lock nobody holds died without ending (DESIGN.md §1). Where Web Locks are missing,
// a heartbeat older than HEARTBEAT.staleMs means the same.
import { reportInternalError } from '../tools/monitor.js';

export const HEARTBEAT = { everyMs: 10_000, staleMs: 60_000 } as const;

export const liveLockName = (sessionId: string): string => `ferry:live:${sessionId}`;

export interface HeldLock {
  /** Resolves once the lock is held (immediately when Web Locks are missing). */
  acquired: Promise<void>;
  release(): void;
}

export const holdLiveLock = (sessionId: string, locks: LockManager | undefined = navigator.locks): HeldLock => {
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
      reportInternalError('live lock', e);
    });
  return { acquired, release: () => release() };
};

/** Names of the live locks currently held by any page or worker of this origin. */
export const heldLiveLocks = async (locks: LockManager | undefined = navigator.locks): Promise<Set<string> | undefined> => {
  if (!locks) return undefined;
  const snapshot = await locks.query();
  return new Set((snapshot.held ?? []).map((l) => l.name ?? ''));
};

/** Whether a running session is dead: its lock is free, or (no locks) its heartbeat is stale. */
export const isDead = (
  s: { id: string; heartbeatAt: number },
  held: Set<string> | undefined,
  now: number,
): boolean => (held ? !held.has(liveLockName(s.id)) : now - s.heartbeatAt > HEARTBEAT.staleMs);
