import { openDB, type IDBPDatabase } from 'idb';
import { DB_VERSION, dbName, type ChunkRecord, type FerryDB, type SessionRecord } from './schema.js';
import type { SessionStatus } from '../../shared/summary.js';

export type FerryDatabase = IDBPDatabase<FerryDB>;

/**
 * Numbered migrations: index i upgrades a database from version i to i + 1. A new schema
 * version appends one function here and bumps DB_VERSION.
 */
const MIGRATIONS: ((db: FerryDatabase) => void)[] = [
  (db) => {
    const sessions = db.createObjectStore('sessions', { keyPath: 'id' });
    sessions.createIndex('by-app', 'application');
    sessions.createIndex('by-status', 'status');
    sessions.createIndex('by-detailState', 'detailState');
    sessions.createIndex('by-start', 'startedAt');
    db.createObjectStore('chunks', { keyPath: ['sessionId', 'seq'] });
    db.createObjectStore('outbox', { keyPath: 'sessionId' });
    db.createObjectStore('meta');
  },
];

export interface OpenResult {
  db: FerryDatabase;
  /** True when this open created the database (it did not exist, or was silently emptied). */
  created: boolean;
}

export const openDatabase = async (product: string): Promise<OpenResult> => {
  let created = false;
  const db = await openDB<FerryDB>(dbName(product), DB_VERSION, {
    upgrade(database, oldVersion) {
      if (oldVersion === 0) created = true;
      for (let v = oldVersion; v < DB_VERSION; v++) MIGRATIONS[v](database);
    },
    blocking() {
      // A newer agent in another tab wants to upgrade: step aside rather than block it.
      db.close();
    },
  });
  return { db, created };
};

/** Query helpers over the schema, usable from page, worker and service worker. */
export const sessionsByStatus = (db: FerryDatabase, status: SessionStatus): Promise<SessionRecord[]> =>
  db.getAllFromIndex('sessions', 'by-status', status);

export const allSessions = (db: FerryDatabase): Promise<SessionRecord[]> => db.getAll('sessions');

export const sessionsOfApplication = (db: FerryDatabase, application: string): Promise<SessionRecord[]> =>
  db.getAllFromIndex('sessions', 'by-app', application);

export const chunkRange = (sessionId: string): IDBKeyRange =>
  IDBKeyRange.bound([sessionId, 0], [sessionId, Number.MAX_SAFE_INTEGER]);

export const chunksOf = (db: FerryDatabase, sessionId: string): Promise<ChunkRecord[]> =>
  db.getAll('chunks', chunkRange(sessionId));

/** Deletes a session with its chunks and outbox entry in one transaction. */
export const deleteSessions = async (db: FerryDatabase, ids: readonly string[]): Promise<void> => {
  if (ids.length === 0) return;
  const tx = db.transaction(['sessions', 'chunks', 'outbox'], 'readwrite');
  for (const id of ids) {
    void tx.objectStore('sessions').delete(id);
    void tx.objectStore('chunks').delete(chunkRange(id));
    void tx.objectStore('outbox').delete(id);
  }
  await tx.done;
};

export const getMeta = async <T>(db: FerryDatabase, key: string): Promise<T | undefined> =>
  (await db.get('meta', key)) as T | undefined;

export const putMeta = async (db: FerryDatabase, key: string, value: unknown): Promise<void> => {
  await db.put('meta', value, key);
};

export const isQuotaError = (e: unknown): boolean =>
  typeof e === 'object' && e !== null && (e as { name?: unknown }).name === 'QuotaExceededError';
