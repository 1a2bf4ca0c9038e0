import Database from 'better-sqlite3';
import { createMutex, type Db, type Queryable, type SqlValue, textParams } from './db.js';

/**
 * better-sqlite3 behind the async Db surface. WAL with `synchronous = FULL`: a commit is on
 * disk (the WAL fsynced) before it returns, which is what "durable before acknowledged" needs.
 */
export const openSqliteDb = (file: string): Db => {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('busy_timeout = 5000');
  const cache = new Map<string, Database.Statement>();
  const prepare = (sql: string): Database.Statement => {
    let st = cache.get(sql);
    if (!st) {
      st = db.prepare(sql);
      cache.set(sql, st);
    }
    return st;
  };
  const q: Queryable = {
    all: async <T>(sql: string, params: readonly SqlValue[] = []) => prepare(sql).all(...textParams(params)) as T[],
    run: async (sql: string, params: readonly SqlValue[] = []) => {
      const st = prepare(sql);
      const p = textParams(params);
      if (st.reader) return st.all(...p).length;
      return st.run(...p).changes;
    },
  };
  const lock = createMutex();
  let open = true;
  return {
    dialect: 'sqlite',
    all: (sql, params) => lock(() => q.all(sql, params)),
    run: (sql, params) => lock(() => q.run(sql, params)),
    tx: (fn) =>
      lock(async () => {
        db.exec('BEGIN IMMEDIATE');
        try {
          const r = await fn(q);
          db.exec('COMMIT');
          return r;
        } catch (e) {
          if (db.inTransaction) db.exec('ROLLBACK');
          throw e;
        }
      }),
    close: () =>
      lock(async () => {
        if (open) db.close();
        open = false;
      }),
  };
};
