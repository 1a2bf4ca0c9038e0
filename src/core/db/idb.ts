// The one promise wrapper over IndexedDB, typed by the product database's schema, in the manner of
// jakearchibald/idb but only the part Ferry uses: idb's proxies were 3.4 KB of every page's
// start-up (1.1 KB gzip), and its request promises, left unawaited (`void store.put()`), turned a
// failed write into an unhandled rejection in the host page. Here every promise is marked handled:
// whoever awaits it still sees the error, and nobody else does.
import type { FerryDB } from './schema.js';

export type StoreName = keyof FerryDB & string;
type Value<N extends StoreName> = FerryDB[N]['value'];
type Key<N extends StoreName> = FerryDB[N]['key'];
type IndexName<N extends StoreName> = FerryDB[N] extends { indexes: infer I } ? keyof I & string : never;
type Query<N extends StoreName> = Key<N> | IDBKeyRange;

export interface Store<N extends StoreName> {
  get(key: Key<N>): Promise<Value<N> | undefined>;
  getAll(query?: Query<N> | null, count?: number): Promise<Value<N>[]>;
  getAllKeys(query?: Query<N> | null, count?: number): Promise<Key<N>[]>;
  count(query?: Query<N>): Promise<number>;
  /** The records an index holds for `query`. */
  getAllFromIndex(index: IndexName<N>, query: IDBValidKey | IDBKeyRange): Promise<Value<N>[]>;
  put(value: Value<N>, key?: Key<N>): Promise<Key<N>>;
  delete(query: Query<N>): Promise<void>;
  /** The native store, for what the wrapper leaves out (cursors and indexes in migrations). */
  raw: IDBObjectStore;
}

export interface Transaction<N extends StoreName> {
  objectStore<S extends N>(name: S): Store<S>;
  /** The first (for a one-store transaction, the only) store. */
  readonly store: Store<N>;
  /** Resolves once the transaction has committed; rejects with the error that aborted it. */
  done: Promise<void>;
  commit(): void;
  abort(): void;
  raw: IDBTransaction;
}

export interface Database {
  transaction<N extends StoreName>(names: N | N[], mode?: IDBTransactionMode): Transaction<N>;
  get<N extends StoreName>(store: N, key: Key<N>): Promise<Value<N> | undefined>;
  getAll<N extends StoreName>(store: N, query?: Query<N> | null, count?: number): Promise<Value<N>[]>;
  getAllKeys<N extends StoreName>(store: N, query?: Query<N> | null, count?: number): Promise<Key<N>[]>;
  count<N extends StoreName>(store: N, query?: Query<N>): Promise<number>;
  getAllFromIndex<N extends StoreName>(store: N, index: IndexName<N>, query: IDBValidKey | IDBKeyRange): Promise<Value<N>[]>;
  /** Resolves once the write has committed, as do `delete` and every shortcut that writes. */
  put<N extends StoreName>(store: N, value: Value<N>, key?: Key<N>): Promise<Key<N>>;
  delete<N extends StoreName>(store: N, query: Query<N>): Promise<void>;
  close(): void;
  raw: IDBDatabase;
}

const handled = <T>(p: Promise<T>): Promise<T> => {
  p.catch(() => {});
  return p;
};

/** A request as a promise of its result. */
export const request = <T>(r: IDBRequest<T>): Promise<T> =>
  handled(
    new Promise<T>((resolve, reject) => {
      r.onsuccess = () => resolve(r.result);
      r.onerror = () => reject(r.error);
    }),
  );

const wrapStore = <N extends StoreName>(s: IDBObjectStore): Store<N> => ({
  get: (key) => request(s.get(key)),
  getAll: (query, count) => request(s.getAll(query, count)),
  getAllKeys: (query, count) => request(s.getAllKeys(query, count)) as Promise<Key<N>[]>,
  count: (query) => request(s.count(query)),
  getAllFromIndex: (index, query) => request(s.index(index).getAll(query)),
  put: (value, key) => request(key === undefined ? s.put(value) : s.put(value, key)) as Promise<Key<N>>,
  delete: (query) => request(s.delete(query)),
  raw: s,
});

export const wrapTransaction = <N extends StoreName>(tx: IDBTransaction): Transaction<N> => {
  const done = handled(
    new Promise<void>((resolve, reject) => {
      tx.oncomplete = () => resolve();
      // An abort a failed request caused carries that request's error (QuotaExceededError, say).
      tx.onabort = () => reject(tx.error ?? new DOMException('The transaction was aborted', 'AbortError'));
    }),
  );
  const objectStore = <S extends N>(name: S): Store<S> => wrapStore<S>(tx.objectStore(name));
  return {
    objectStore,
    get store() {
      return objectStore(tx.objectStoreNames[0] as N);
    },
    done,
    commit: () => tx.commit(),
    abort: () => tx.abort(),
    raw: tx,
  };
};

const wrapDatabase = (db: IDBDatabase): Database => {
  const transaction = <N extends StoreName>(names: N | N[], mode: IDBTransactionMode = 'readonly') => wrapTransaction<N>(db.transaction(names, mode));
  const read = <N extends StoreName, T>(name: N, fn: (s: Store<N>) => Promise<T>): Promise<T> => fn(transaction(name).store);
  const write = <N extends StoreName, T>(name: N, fn: (s: Store<N>) => Promise<T>): Promise<T> => {
    const tx = transaction(name, 'readwrite');
    return handled(Promise.all([fn(tx.store), tx.done]).then(([v]) => v));
  };
  return {
    transaction,
    get: (name, key) => read(name, (s) => s.get(key)),
    getAll: (name, query, count) => read(name, (s) => s.getAll(query, count)),
    getAllKeys: (name, query, count) => read(name, (s) => s.getAllKeys(query, count)),
    count: (name, query) => read(name, (s) => s.count(query)),
    getAllFromIndex: (name, index, query) => read(name, (s) => s.getAllFromIndex(index, query)),
    put: (name, value, key) => write(name, (s) => s.put(value, key)),
    delete: (name, query) => write(name, (s) => s.delete(query)),
    close: () => db.close(),
    raw: db,
  };
};

export interface OpenHandlers {
  /** Runs inside the versionchange transaction; a rejection aborts it, and the open rejects with that error. */
  upgrade(db: IDBDatabase, oldVersion: number, tx: Transaction<StoreName>): void | Promise<void>;
  /** Another connection keeps this open waiting. */
  blocked?(): void;
  /** Another context asks to upgrade: close, or it waits on this connection. */
  blocking?(): void;
  /** The browser closed the connection (storage cleared, say). */
  terminated?(): void;
}

export const openDatabase = (name: string, version: number, h: OpenHandlers): Promise<Database> =>
  handled(
    new Promise<Database>((resolve, reject) => {
      const r = indexedDB.open(name, version);
      let failed: unknown;
      r.onupgradeneeded = (e) => {
        const tx = wrapTransaction(r.transaction as IDBTransaction);
        const fail = (err: unknown): void => {
          failed = err;
          try {
            tx.abort();
          } catch {
            // already finished
          }
        };
        // Called synchronously: the versionchange transaction is active only while this event runs.
        try {
          h.upgrade(r.result, e.oldVersion, tx)?.catch(fail);
        } catch (err) {
          fail(err);
        }
      };
      r.onblocked = () => h.blocked?.();
      r.onsuccess = () => {
        const db = r.result;
        db.onversionchange = () => h.blocking?.();
        db.onclose = () => h.terminated?.();
        resolve(wrapDatabase(db));
      };
      r.onerror = () => reject(failed ?? r.error);
    }),
  );
