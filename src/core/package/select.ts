/** Finds the sessions a package takes, straight from IndexedDB (page, worker or service worker). */
import type { PackageCriterion } from '../../shared/package-format.js';
import { matchesCriteria, type CriteriaScope } from './criteria.js';
import type { FerryDatabase } from '../db/repository.js';
import type { SessionRecord } from '../db/schema.js';

export interface Selection extends CriteriaScope {
  criteria: PackageCriterion[];
}

/** Matching sessions, oldest first. */
export const selectSessions = async (db: FerryDatabase, q: Selection): Promise<SessionRecord[]> => {
  const candidates = q.application !== undefined ? await db.getAllFromIndex('sessions', 'by-app', q.application) : await db.getAll('sessions');
  return candidates.filter((s) => matchesCriteria(s, q.criteria, q)).sort((a, b) => a.startedAt - b.startedAt || (a.id < b.id ? -1 : 1));
};

/** Sets `packagedAt` on the given sessions that are not running; returns the ids marked. */
/**
 * Marks sessions as packaged; with `sent` (the collector stored the package) also as sent, so
 * the sender neither summarises nor uploads them again.
 */
export const markPackaged = async (db: FerryDatabase, ids: readonly string[], at: number, sent = false): Promise<string[]> => {
  const tx = db.transaction(['sessions', 'outbox'], 'readwrite');
  const sessions = tx.objectStore('sessions');
  const marked: string[] = [];
  for (const id of ids) {
    const s = await sessions.get(id);
    // A running session keeps logging after the package was made, and its own tab rewrites
    // its record with every batch: it stays unmarked (it is still `new` once it ends).
    if (!s || s.status === 'running') continue;
    s.packagedAt = at;
    if (sent) {
      s.summarySentAt = at;
      s.sentAt = at;
      s.detailState = 'sent';
      void tx.objectStore('outbox').delete(id);
    }
    void sessions.put(s);
    marked.push(id);
  }
  await tx.done;
  return marked;
};
