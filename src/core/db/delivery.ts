/**
 * The `delivery` store: everything the sending side (sender, packager, service worker) knows of a
 * session. Every change goes through updateDelivery — one read-modify-write in one transaction,
 * named by its operation — so two contexts never race a stale copy over each other, and a batch
 * of the recording tab never touches these fields.
 */
import type { StoreName, Transaction } from './idb.js';
import type { FerryDatabase } from './open.js';
import type { DeliveryOp, DeliveryRecord } from './schema.js';

/** Edits the row in place; returning false leaves it unchanged (nothing written). */
// biome-ignore lint/suspicious/noConfusingVoidType: an updater edits in place (and returns nothing) or returns false
export type DeliveryUpdate = (row: DeliveryRecord) => void | false;

/** A transaction holding the `delivery` store among others. */
type TxWithDelivery = Transaction<StoreName>;

/** updateDelivery inside a transaction the caller holds (which must include `delivery`). */
export const updateDeliveryIn = async (
  tx: TxWithDelivery,
  sessionId: string,
  op: DeliveryOp,
  fn: DeliveryUpdate,
  now: number = Date.now(),
): Promise<DeliveryRecord | undefined> => {
  const store = tx.objectStore('delivery');
  const row: DeliveryRecord = (await store.get(sessionId)) ?? { sessionId, lastOp: op, updatedAt: now };
  if (fn(row) === false) return undefined;
  row.lastOp = op;
  row.updatedAt = now;
  await store.put(row);
  return row;
};

/** Reads, changes and writes one session's delivery row in its own transaction; returns the row written. */
export const updateDelivery = async (
  db: FerryDatabase,
  sessionId: string,
  op: DeliveryOp,
  fn: DeliveryUpdate,
  now: number = Date.now(),
): Promise<DeliveryRecord | undefined> => {
  const tx = db.transaction('delivery', 'readwrite');
  const row = await updateDeliveryIn(tx, sessionId, op, fn, now);
  await tx.done;
  return row;
};

export const getDelivery = (db: FerryDatabase, sessionId: string): Promise<DeliveryRecord | undefined> => db.get('delivery', sessionId);

/** Every delivery row, by session id. */
export const deliveryMap = async (db: FerryDatabase): Promise<Map<string, DeliveryRecord>> =>
  new Map((await db.getAll('delivery')).map((d) => [d.sessionId, d]));

/** A package as it left: the id and the lastSeq (and status) each session had in it. */
export interface PackagedSession {
  id: string;
  lastSeq: number;
  status: 'running' | 'ended' | 'crashed';
}

/**
 * Marks sessions as packaged; with `sent` (the collector stored the package) also as summarised
 * and sent up to what the package held, so the sender sends nothing of it again. A running session
 * packaged with `active` goes on logging: what it logs later is still new.
 */
export const markPackaged = async (db: FerryDatabase, sessions: readonly PackagedSession[], at: number, sent = false): Promise<string[]> => {
  const tx = db.transaction(['delivery', 'outbox'], 'readwrite');
  const marked: string[] = [];
  for (const s of sessions) {
    await updateDeliveryIn(
      tx,
      s.id,
      'packaged',
      (d) => {
        d.packagedAt = at;
        d.packagedSeq = Math.max(d.packagedSeq ?? 0, s.lastSeq);
        if (!sent) return;
        d.summarySentAt = at;
        d.summaryStatus = s.status;
        d.summarySeq = s.lastSeq;
        d.detailState = s.status === 'running' ? 'partial' : 'sent';
        d.sentAt = at;
        d.sentSeq = s.lastSeq;
        void tx.objectStore('outbox').delete(s.id);
      },
      at,
    );
    marked.push(s.id);
  }
  await tx.done;
  return marked;
};
