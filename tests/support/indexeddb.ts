/**
 * IndexedDB for Node unit tests: fake-indexeddb (in memory) installed on globalThis as the
 * browser has it (`indexedDB`, `IDBKeyRange`, `IDBDatabase`…), so `idb`, `openProductDb` and the
 * core send/package code run unchanged. Import this module before any code that opens a database.
 */
import 'fake-indexeddb/auto';
import { IDBFactory } from 'fake-indexeddb';

/** Forgets every database: the next open starts from an empty IndexedDB. */
export const freshIndexedDB = (): void => {
  globalThis.indexedDB = new IDBFactory();
};
