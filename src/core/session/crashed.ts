import type { FerryDatabase } from '../db/repository.js';
import { heldLiveLocks, isDead } from '../../agent/session/liveLock.js';

/**
 * Marks every `running` session whose owner is gone as `crashed` and returns their ids, except
 * those in `endedAt` (a tab that ended them at pagehide but closed before the write landed):
 * those become `ended`. The session is re-read inside the writing transaction, so a session
 * that ended (or wrote) between the lock query and the write is left alone.
 */
export const markCrashedSessions = async (
  db: FerryDatabase,
  options: { locks?: LockManager; now?: () => number; exclude?: string; endedAt?: ReadonlyMap<string, number> } = {},
): Promise<string[]> => {
  const now = options.now ?? Date.now;
  const running = await db.getAllFromIndex('sessions', 'by-status', 'running');
  const candidates = running.filter((s) => s.id !== options.exclude);
  if (candidates.length === 0) return [];
  const held = await heldLiveLocks(options.locks ?? (typeof navigator !== 'undefined' ? navigator.locks : undefined));
  const dead = candidates.filter((s) => isDead(s, held, now()));
  if (dead.length === 0) return [];
  const tx = db.transaction('sessions', 'readwrite');
  const marked: string[] = [];
  for (const seen of dead) {
    const current = await tx.store.get(seen.id);
    if (!current || current.status !== 'running' || current.heartbeatAt !== seen.heartbeatAt) continue;
    const ended = options.endedAt?.get(current.id);
    current.status = ended === undefined ? 'crashed' : 'ended';
    current.endedAt = ended ?? current.heartbeatAt;
    void tx.store.put(current);
    if (ended === undefined) marked.push(current.id);
  }
  await tx.done;
  return marked;
};
