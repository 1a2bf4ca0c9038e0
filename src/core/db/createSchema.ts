// The schema of DB_VERSION, made in one step for a database that does not exist yet. Upgrading an
// older one is migrations.ts's job, loaded only when such a database is found, so the start-up
// bundle carries no migration code. The two must end alike (tests/unit/core/db/migrations.test.ts).
import type { IDBPDatabase } from 'idb';
import type { FerryDB } from './schema.js';

export const createSchema = (db: IDBPDatabase<FerryDB>): void => {
  const sessions = db.createObjectStore('sessions', { keyPath: 'id' });
  sessions.createIndex('by-app', 'application');
  sessions.createIndex('by-status', 'status');
  db.createObjectStore('chunks', { keyPath: ['sessionId', 'seq'] });
  db.createObjectStore('outbox', { keyPath: 'sessionId' });
  db.createObjectStore('delivery', { keyPath: 'sessionId' });
  db.createObjectStore('meta');
};
