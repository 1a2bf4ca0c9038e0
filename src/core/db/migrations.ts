// Numbered migrations: MIGRATIONS[i] upgrades a database from version i to i + 1, inside the
// versionchange transaction. A new schema version adds one function, bumps DB_VERSION and
// changes createSchema.ts to match. Loaded lazily by open.ts, only when an older database is found.
import { request, type StoreName, type Transaction } from './idb.js';
import type { DeliveryRecord, DetailState, SessionRecord } from './schema.js';

type UpgradeTx = Transaction<StoreName>;
type Migration = (db: IDBDatabase, tx: UpgradeTx, now: number) => Promise<void> | void;

/** The sending side's fields as version 1 kept them, inside the session record. */
interface V1SessionFields {
  summarySentAt?: number;
  detailState?: 'none' | DetailState;
  sentAt?: number;
  packagedAt?: number;
  parked?: string;
  forceSend?: boolean;
}
const V1_FIELDS = ['summarySentAt', 'detailState', 'sentAt', 'packagedAt', 'parked', 'forceSend'] as const;

/** The delivery row a version-1 session implies, or undefined when it was never summarised, sent nor packaged. */
export const deliveryFromV1 = (s: SessionRecord & V1SessionFields, now: number): DeliveryRecord | undefined => {
  const row: DeliveryRecord = { sessionId: s.id, lastOp: 'migrated', updatedAt: now };
  if (s.summarySentAt !== undefined) {
    row.summarySentAt = s.summarySentAt;
    // Version 1 kept no record of what a summary said; take it as the session stands.
    row.summaryStatus = s.status;
    row.summarySeq = s.lastSeq;
  }
  if (s.detailState !== undefined && s.detailState !== 'none') row.detailState = s.detailState;
  if (s.sentAt !== undefined) {
    row.sentAt = s.sentAt;
    row.sentSeq = s.lastSeq;
    row.detailState = 'sent';
  }
  if (s.packagedAt !== undefined) {
    row.packagedAt = s.packagedAt;
    row.packagedSeq = s.lastSeq;
  }
  if (s.parked !== undefined) row.parked = s.parked;
  if (s.forceSend) row.forceSend = true;
  return Object.keys(row).length > 3 ? row : undefined;
};

/** MIGRATIONS[v] upgrades version v to v + 1; a new database is made by createSchema.ts instead. */
const MIGRATIONS: Record<number, Migration> = {
  1: async (db, tx, now) => {
    db.createObjectStore('delivery', { keyPath: 'sessionId' });
    const sessions = tx.objectStore('sessions').raw;
    // Indexes of version 1 that nothing queries.
    for (const name of ['by-detailState', 'by-start']) if (sessions.indexNames.contains(name)) sessions.deleteIndex(name);
    const delivery = tx.objectStore('delivery');
    // One request, its success event fired once per record: `continue()` moves it on.
    const cursors = sessions.openCursor();
    for (let cursor = await request(cursors); cursor; cursor = await next(cursors, cursor)) {
      const old = cursor.value as SessionRecord & V1SessionFields;
      const row = deliveryFromV1(old, now);
      if (row) void delivery.put(row);
      const session: Record<string, unknown> = { ...old };
      for (const k of V1_FIELDS) delete session[k];
      void request(cursor.update(session));
    }
  },
};

/** The cursor request's next result. */
const next = (r: IDBRequest<IDBCursorWithValue | null>, cursor: IDBCursorWithValue): Promise<IDBCursorWithValue | null> => {
  const p = request(r);
  cursor.continue();
  return p;
};

export const runMigrations = async (db: IDBDatabase, tx: UpgradeTx, from: number, to: number, now: number): Promise<void> => {
  for (let v = from; v < to; v++) await MIGRATIONS[v](db, tx, now);
};

/** `OpenOptions.migrations` for contexts that bundle them (the worker, the service worker). */
export const bundledMigrations = async (): Promise<{ runMigrations: typeof runMigrations }> => ({ runMigrations });
