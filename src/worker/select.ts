/** Finds the sessions a package takes, straight from IndexedDB (page, worker or service worker). */
import type { PackageCriterion } from '../shared/package-format.js';
import { matchesCriteria, type CriteriaScope } from '../agent/criteria.js';
import type { FerryDatabase } from '../agent/repository.js';
import type { SessionRecord } from '../agent/schema.js';

export interface Selection extends CriteriaScope {
  criteria: PackageCriterion[];
}

/** Matching sessions, oldest first. */
export const selectSessions = async (db: FerryDatabase, q: Selection): Promise<SessionRecord[]> => {
  const candidates = q.application !== undefined ? await db.getAllFromIndex('sessions', 'by-app', q.application) : await db.getAll('sessions');
  return candidates.filter((s) => matchesCriteria(s, q.criteria, q)).sort((a, b) => a.startedAt - b.startedAt || (a.id < b.id ? -1 : 1));
};

/** Sets `packagedAt` on the given sessions that are not running; returns the ids marked. */
export const markPackaged = async (db: FerryDatabase, ids: readonly string[], at: number): Promise<string[]> => {
  const tx = db.transaction('sessions', 'readwrite');
  const marked: string[] = [];
  for (const id of ids) {
    const s = await tx.store.get(id);
    // A running session keeps logging after the package was made, and its own tab rewrites
    // its record with every batch: it stays unmarked (it is still `new` once it ends).
    if (!s || s.status === 'running') continue;
    s.packagedAt = at;
    void tx.store.put(s);
    marked.push(id);
  }
  await tx.done;
  return marked;
};
