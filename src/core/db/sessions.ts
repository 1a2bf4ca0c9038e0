// Accessors of the `sessions` store (and the deletion of a whole session, every store at once).
import { fitSummary } from '../../shared/limits.js';
import type { SessionStatus, SessionSummary } from '../../shared/summary.js';
import { chunkRange } from './chunks.js';
import type { FerryDatabase } from './open.js';
import type { DeliveryRecord, SessionRecord } from './schema.js';

export const sessionsByStatus = (db: FerryDatabase, status: SessionStatus): Promise<SessionRecord[]> => db.getAllFromIndex('sessions', 'by-status', status);

export const allSessions = (db: FerryDatabase): Promise<SessionRecord[]> => db.getAll('sessions');

export const sessionsOfApplication = (db: FerryDatabase, application: string): Promise<SessionRecord[]> =>
  db.getAllFromIndex('sessions', 'by-app', application);

/** Deletes sessions with their chunks, outbox blob and delivery row in one transaction. */
export const deleteSessions = async (db: FerryDatabase, ids: readonly string[]): Promise<void> => {
  if (ids.length === 0) return;
  const tx = db.transaction(['sessions', 'chunks', 'outbox', 'delivery'], 'readwrite');
  for (const id of ids) {
    void tx.objectStore('sessions').delete(id);
    void tx.objectStore('chunks').delete(chunkRange(id));
    void tx.objectStore('outbox').delete(id);
    void tx.objectStore('delivery').delete(id);
  }
  await tx.done;
};

/**
 * The protocol summary of a stored session: its record, and `force` when the sending side asked
 * for it. Free-text fields are cut to the collector's limits, records written by older agents too.
 */
export const toSummary = (r: SessionRecord, d?: Pick<DeliveryRecord, 'forceSend'>): SessionSummary => {
  const { heartbeatAt: _h, sendOnExit: _x, ...summary } = r;
  const out: SessionSummary = fitSummary(structuredClone(summary));
  if (d?.forceSend) out.force = true;
  return out;
};
