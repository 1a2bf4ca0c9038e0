/** Finds the sessions a package takes, straight from IndexedDB (page, worker or service worker). */
import type { PackageCriterion } from '../../shared/package-format.js';
import { deliveryMap } from '../db/delivery.js';
import type { FerryDatabase } from '../db/open.js';
import type { SessionRecord } from '../db/schema.js';
import { allSessions, sessionsOfApplication } from '../db/sessions.js';
import { type CriteriaScope, matchesCriteria } from './criteria.js';

export interface Selection extends CriteriaScope {
  criteria: PackageCriterion[];
}

/** Matching sessions, oldest first. */
export const selectSessions = async (db: FerryDatabase, q: Selection): Promise<SessionRecord[]> => {
  const [candidates, delivery] = await Promise.all([q.application !== undefined ? sessionsOfApplication(db, q.application) : allSessions(db), deliveryMap(db)]);
  return candidates
    .filter((s) => matchesCriteria({ ...s, delivery: delivery.get(s.id) }, q.criteria, q))
    .sort((a, b) => a.startedAt - b.startedAt || (a.id < b.id ? -1 : 1));
};
