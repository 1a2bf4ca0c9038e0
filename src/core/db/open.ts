// The one way page, worker and service worker open a product database.
import { type IDBPDatabase, openDB } from 'idb';
import { dbName } from '../../shared/names.js';
import { runMigrations } from './migrations.js';
import { DB_VERSION, type FerryDB } from './schema.js';

export type FerryDatabase = IDBPDatabase<FerryDB>;

export interface OpenOptions {
  /**
   * Create the database when it does not exist. The service worker passes false: a product
   * without a database has nothing to send. @defaultValue true
   */
  create?: boolean;
  /** Told when another context's open waits for this one to close (an older agent holding it). */
  onBlocked?: () => void;
  /** Told when this connection was closed to let a newer version in (a cached connection must be dropped). */
  onClosed?: () => void;
  now?: () => number;
}

export interface OpenResult {
  db: FerryDatabase;
  /** True when this open created the database (it did not exist, or was silently emptied). */
  created: boolean;
}

/** Opens `ferry:<product>`, migrating it to DB_VERSION; undefined when `create` is false and it does not exist. */
export const openProductDb = async (product: string, o: OpenOptions = {}): Promise<OpenResult | undefined> => {
  let created = false;
  let absent = false;
  const now = o.now ?? Date.now;
  const db = await openDB<FerryDB>(dbName(product), DB_VERSION, {
    async upgrade(database, oldVersion, _newVersion, tx) {
      if (oldVersion === 0 && o.create === false) {
        absent = true;
        tx.abort();
        return;
      }
      if (oldVersion === 0) created = true;
      await runMigrations(database, tx, oldVersion, DB_VERSION, now());
    },
    blocked() {
      o.onBlocked?.();
    },
    blocking() {
      // A newer agent in another context wants to upgrade: step aside rather than block it. Calls
      // on this connection then fail, and the caller's next open gets the new version.
      db?.close();
      o.onClosed?.();
    },
    terminated() {
      o.onClosed?.();
    },
  }).catch((e: unknown) => {
    if (absent) return undefined;
    throw e;
  });
  return db ? { db, created } : undefined;
};

/** openProductDb for callers that always create: never undefined. */
export const openOrCreateProductDb = async (product: string, o: Omit<OpenOptions, 'create'> = {}): Promise<OpenResult> =>
  (await openProductDb(product, { ...o, create: true }))!;

export const isQuotaError = (e: unknown): boolean => typeof e === 'object' && e !== null && (e as { name?: unknown }).name === 'QuotaExceededError';
