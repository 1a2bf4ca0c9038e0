import pg from 'pg';
import { type Db, type Queryable, type SqlValue, textParams } from './db.js';

const converted = new Map<string, string>();
/** The store's SQL uses `?`; pg wants `$1…`. (No `?` ever appears inside a literal in our SQL.) */
const toPg = (sql: string): string => {
  let out = converted.get(sql);
  if (out === undefined) {
    let n = 0;
    out = sql.replace(/\?/g, () => `$${++n}`);
    converted.set(sql, out);
  }
  return out;
};

// int8 and numeric (COUNT, SUM, BIGINT columns) as JS numbers: our values are epoch ms and
// counts, far below 2^53.
const parseNumber = (v: string): number => Number(v);
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === 20 || oid === 1700 ? parseNumber : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
};

export const openPostgresDb = (url: string, poolSize: number): Db & { pool: pg.Pool } => {
  const pool = new pg.Pool({ connectionString: url, max: poolSize, types });
  // An idle client's error (server restart) must not crash the collector; the next query reconnects.
  pool.on('error', () => {});
  // The pool listens for errors only while a client is idle: a connection lost while checked out
  // (mid-transaction) would emit an unhandled 'error' and end the process. Its query rejects
  // anyway, and the pool drops the dead client on release.
  pool.on('connect', (c) => c.on('error', () => {}));
  const on = (c: pg.Pool | pg.PoolClient): Queryable => ({
    all: async <T>(sql: string, params: readonly SqlValue[] = []) => (await c.query(toPg(sql), textParams(params))).rows as T[],
    run: async (sql: string, params: readonly SqlValue[] = []) => (await c.query(toPg(sql), textParams(params))).rowCount ?? 0,
  });
  const direct = on(pool);
  return {
    dialect: 'postgres',
    pool,
    all: direct.all,
    run: direct.run,
    async tx(fn) {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        const r = await fn(on(client));
        await client.query('COMMIT');
        return r;
      } catch (e) {
        await client.query('ROLLBACK').catch(() => {});
        throw e;
      } finally {
        client.release();
      }
    },
    close: () => pool.end(),
  };
};
