// A live session holds the Web Lock `ferry:live:<id>` for its life; a `running` session whose
// lock nobody holds died without ending (docs/architecture.md). Where Web Locks are missing, a
// heartbeat older than HEARTBEAT.staleMs means the same.
import { liveLockName } from '../../shared/names.js';

export const HEARTBEAT = { everyMs: 10_000, staleMs: 60_000 } as const;

/** Names of the live locks currently held by any page or worker of this origin. */
export const heldLiveLocks = async (locks: LockManager | undefined): Promise<Set<string> | undefined> => {
  if (!locks) return undefined;
  const snapshot = await locks.query();
  return new Set((snapshot.held ?? []).map((l) => l.name ?? ''));
};

/** Whether a running session is dead: its lock is free, or (no locks) its heartbeat is stale. */
export const isDead = (s: { id: string; heartbeatAt: number }, held: Set<string> | undefined, now: number): boolean =>
  held ? !held.has(liveLockName(s.id)) : now - s.heartbeatAt > HEARTBEAT.staleMs;
