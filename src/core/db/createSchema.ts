// The schema of DB_VERSION, made in one step for a database that does not exist yet. Upgrading an
// older one is migrations.ts's job, loaded only when such a database is found, so the start-up
// bundle carries no migration code. The two must end alike (tests/unit/core/db/migrations.test.ts).
import type { StoreName } from './idb.js';

export const createSchema = (db: IDBDatabase): void => {
  // Typed names: a store the schema does not know cannot be made.
  const store = (name: StoreName, o?: IDBObjectStoreParameters): IDBObjectStore => db.createObjectStore(name, o);
  const sessions = store('sessions', { keyPath: 'id' });
  sessions.createIndex('by-app', 'application');
  sessions.createIndex('by-status', 'status');
  store('chunks', { keyPath: ['sessionId', 'seq'] });
  store('outbox', { keyPath: 'sessionId' });
  store('delivery', { keyPath: 'sessionId' });
  store('meta');
};
