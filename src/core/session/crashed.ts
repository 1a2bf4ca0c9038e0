import type { FerryDatabase } from '../db/open.js';
import { sessionsByStatus } from '../db/sessions.js';
import { heldLiveLocks, isDead } from './liveness.js';

export interface CrashCheckOptions {
  locks?: LockManager;
  now?: () => number;
  /** Never this session (the caller's own). */
  exclude?: string;
  /** Sessions their tab ended at pagehide although the write did not land (the page's end marks): these become `ended`. */
  endedAt?: ReadonlyMap<string, number>;
}

/**
 * Marks every `running` session whose tab is gone as `crashed` and returns their ids. This is the
 * one write to a session record made outside its own tab, and it sets only `status`/`endedAt`: the
 * session is re-read inside the writing transaction, so one that ended (or wrote) between the lock
 * query and the write is left alone. The elected sender runs it at takeover and on every pass, the
 * service worker in its sync, a page at start.
 */
export const markCrashedSessions = async (db: FerryDatabase, options: CrashCheckOptions = {}): Promise<string[]> => {
  const now = options.now ?? Date.now;
  const running = await sessionsByStatus(db, 'running');
  const candidates = running.filter((s) => s.id !== options.exclude);
  if (candidates.length === 0) return [];
  const held = await heldLiveLocks(options.locks);
  const dead = candidates.filter((s) => isDead(s, held, now()));
  if (dead.length === 0) return [];
  const tx = db.transaction('sessions', 'readwrite');
  const marked: string[] = [];
  for (const seen of dead) {
    const current = await tx.store.get(seen.id);
    if (current?.status !== 'running' || current.heartbeatAt !== seen.heartbeatAt) continue;
    const ended = options.endedAt?.get(current.id);
    current.status = ended === undefined ? 'crashed' : 'ended';
    current.endedAt = ended ?? current.heartbeatAt;
    void tx.store.put(current);
    if (ended === undefined) marked.push(current.id);
  }
  await tx.done;
  return marked;
};
