/**
 * Parked sessions: refused by the collector for a reason that retrying unchanged would not fix.
 * What was refused for its content (400, 413, 415, 422) may well be accepted once the agent or
 * the collector is a different version, so such sessions are tried again then — never stranded.
 */
import type { SendError } from '../../shared/http-errors.js';
import { updateDelivery } from '../db/delivery.js';
import type { FerryDatabase } from '../db/open.js';
import type { DeliveryOp, DeliveryRecord } from '../db/schema.js';

/** Refusals of the request's content: a newer agent may send it otherwise, a newer collector may accept it. */
const FIXABLE_STATUSES: ReadonlySet<number> = new Set([400, 413, 415, 422]);

/** Who parked a session, and against which collector. */
export interface ParkContext {
  agentVersion: string;
  collectorVersion?: string;
}

/** Records the refusal on a delivery row (inside an updateDelivery updater). */
export const park = (row: DeliveryRecord, reason: string, status: number | undefined, ctx: ParkContext): void => {
  row.parked = reason;
  row.parkedVersion = ctx.agentVersion;
  if (status === undefined) delete row.parkedStatus;
  else row.parkedStatus = status;
  if (ctx.collectorVersion === undefined) delete row.parkedCollector;
  else row.parkedCollector = ctx.collectorVersion;
};

/** The refusal's status and reason, for park(). */
export const refusal = (e: SendError): { reason: string; status: number | undefined } => ({ reason: e.message, status: e.status });

/** Parked for its content, or before statuses were recorded (an older agent's park, tried once more). */
const fixable = (row: DeliveryRecord): boolean => row.parked !== undefined && (row.parkedStatus === undefined || FIXABLE_STATUSES.has(row.parkedStatus));

/** Numeric dotted versions, compared part by part: 1.10.0 is newer than 1.9.2. */
export const isNewerVersion = (a: string, b: string): boolean => {
  const pa = a
    .split(/[^0-9]+/)
    .filter(Boolean)
    .map(Number);
  const pb = b
    .split(/[^0-9]+/)
    .filter(Boolean)
    .map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const x = pa[i] ?? 0;
    const y = pb[i] ?? 0;
    if (x !== y) return x > y;
  }
  return false;
};

/** Parked by another agent version, for a reason this one may not repeat. */
export const parkedByOtherAgent =
  (agentVersion: string) =>
  (row: DeliveryRecord): boolean =>
    fixable(row) && row.parkedVersion !== agentVersion;

/**
 * Refused by an older collector than the one answering now. Only "newer" counts, so that a fleet
 * of collectors being upgraded one by one does not have each pass un-park and park again.
 */
export const refusedByOlderCollector =
  (collectorVersion: string) =>
  (row: DeliveryRecord): boolean =>
    fixable(row) && row.parkedCollector !== undefined && isNewerVersion(collectorVersion, row.parkedCollector);

export const anyParked = (row: DeliveryRecord): boolean => row.parked !== undefined;

/**
 * Un-parks the sessions `which` picks, each through updateDelivery with the named op; returns their
 * ids. The summary is asked for again (the collector decides anew whether it wants the detail).
 */
export const unparkSessions = async (
  db: FerryDatabase,
  which: (row: DeliveryRecord) => boolean,
  op: Extract<DeliveryOp, `unpark-${string}`>,
  now: number = Date.now(),
): Promise<string[]> => {
  const ids: string[] = [];
  for (const candidate of await db.getAll('delivery')) {
    if (!which(candidate)) continue;
    const written = await updateDelivery(
      db,
      candidate.sessionId,
      op,
      (row) => {
        // Re-checked on the row as it is now: another context may have changed it since the list.
        if (!which(row)) return false;
        delete row.parked;
        delete row.parkedStatus;
        delete row.parkedVersion;
        delete row.parkedCollector;
        delete row.summarySentAt;
        delete row.summaryStatus;
        delete row.summarySeq;
        if (row.detailState === 'wanted' || row.detailState === 'queued') delete row.detailState;
      },
      now,
    );
    if (written) ids.push(candidate.sessionId);
  }
  return ids;
};

/** Un-parks every parked session (the app's `retryParked()`). */
export const unparkAll = (db: FerryDatabase, now: number = Date.now()): Promise<string[]> => unparkSessions(db, anyParked, 'unpark-requested', now);
