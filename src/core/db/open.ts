// The one way page, worker and service worker open a product database.
import { dbName } from '../../shared/names.js';
import { type Database, openDatabase } from './idb.js';
import type { runMigrations } from './migrations.js';
import { DB_VERSION } from './schema.js';

export type FerryDatabase = Database;

export interface OpenOptions {
  /**
   * Makes a database that does not exist yet (createSchema.ts). The worker and the service worker
   * pass none: a product without a database has nothing to send, and they never create one.
   */
  create?: (db: IDBDatabase) => void;
  /** Told when another context's open waits for this one to close (an older agent holding it). */
  onBlocked?: () => void;
  /** Told when this connection was closed to let a newer version in (a cached connection must be dropped). */
  onClosed?: () => void;
  now?: () => number;
  /**
   * Where the migrations come from when the database is older than DB_VERSION: the page loads
   * them lazily (`() => import(…)`), the worker and the service worker pass a static import
   * (service workers may not import()).
   */
  migrations: () => Promise<Migrations>;
}

type Migrations = { runMigrations: typeof runMigrations };

export interface OpenResult {
  db: FerryDatabase;
  /** True when this open created the database (it did not exist, or was silently emptied). */
  created: boolean;
}

/** Opens `ferry:<product>`, migrating it to DB_VERSION; undefined when it does not exist and `create` is not given. */
export const openProductDb = (product: string, o: OpenOptions): Promise<OpenResult | undefined> => open(product, o);

const open = async (product: string, o: OpenOptions, migrate?: Migrations): Promise<OpenResult | undefined> => {
  let created = false;
  let absent = false;
  let needsMigrations = false;
  const now = o.now ?? Date.now;
  const db = await openDatabase(dbName(product), DB_VERSION, {
    async upgrade(database, oldVersion, tx) {
      if (oldVersion === 0) {
        if (!o.create) {
          absent = true;
          tx.abort();
          return;
        }
        created = true;
        o.create(database);
        return;
      }
      // Awaiting their import here would let the versionchange transaction commit unfinished:
      // give up this open (the database stays as it was), load the migrations, open again.
      if (!migrate) {
        needsMigrations = true;
        tx.abort();
        return;
      }
      await migrate.runMigrations(database, tx, oldVersion, DB_VERSION, now());
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
    if (absent || needsMigrations) return undefined;
    throw e;
  });
  if (needsMigrations) {
    return open(product, o, await o.migrations());
  }
  return db ? { db, created } : undefined;
};

/** openProductDb for callers that always create: never undefined. */
export const openOrCreateProductDb = async (product: string, o: OpenOptions & Required<Pick<OpenOptions, 'create'>>): Promise<OpenResult> =>
  (await openProductDb(product, o))!;

export const isQuotaError = (e: unknown): boolean => typeof e === 'object' && e !== null && (e as { name?: unknown }).name === 'QuotaExceededError';
