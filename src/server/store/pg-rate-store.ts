/**
 * Rate-limit buckets in PostgreSQL, shared by every replica on the database: one statement per
 * request applies all its bucket operations atomically (row locks of the upsert), so two replicas
 * never both spend the last token. The table is UNLOGGED: buckets are minutes of state, not worth
 * WAL traffic, and after a crash they start full. It is created here, not by the schema
 * migrations, because it holds no data to migrate.
 */
import type pg from 'pg';
import type { BucketTake, RateStore } from '../middleware/rate-limit.js';

// The advisory lock replicas take while creating the table at start-up (CREATE ... IF NOT EXISTS races).
const CREATE_LOCK = 7_234_002;

const TAKE = `
INSERT INTO ferry_rate_buckets AS r (id, tokens, at, cap, rate, need, cost, granted)
SELECT id, CASE WHEN cap >= need THEN cap - cost ELSE cap END, $1::float8, cap, rate, need, cost, cap >= need
FROM unnest($2::text[], $3::float8[], $4::float8[], $5::float8[], $6::float8[]) AS u(id, cap, rate, need, cost)
ON CONFLICT (id) DO UPDATE SET
  tokens = CASE WHEN LEAST(excluded.cap, r.tokens + GREATEST(0, excluded.at - r.at) * excluded.rate) >= excluded.need
                THEN LEAST(excluded.cap, r.tokens + GREATEST(0, excluded.at - r.at) * excluded.rate) - excluded.cost
                ELSE LEAST(excluded.cap, r.tokens + GREATEST(0, excluded.at - r.at) * excluded.rate) END,
  granted = LEAST(excluded.cap, r.tokens + GREATEST(0, excluded.at - r.at) * excluded.rate) >= excluded.need,
  at = GREATEST(r.at, excluded.at),
  cap = excluded.cap, rate = excluded.rate, need = excluded.need, cost = excluded.cost
RETURNING id, tokens, granted`;

export const createPgRateStore = async (pool: pg.Pool): Promise<RateStore> => {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock($1)', [CREATE_LOCK]);
    await client.query(`CREATE UNLOGGED TABLE IF NOT EXISTS ferry_rate_buckets (
      id TEXT PRIMARY KEY, tokens DOUBLE PRECISION NOT NULL, at DOUBLE PRECISION NOT NULL, cap DOUBLE PRECISION NOT NULL,
      rate DOUBLE PRECISION NOT NULL, need DOUBLE PRECISION NOT NULL, cost DOUBLE PRECISION NOT NULL, granted BOOLEAN NOT NULL)`);
    await client.query('COMMIT');
  } catch (e) {
    await client.query('ROLLBACK').catch(() => {});
    throw e;
  } finally {
    client.release();
  }
  return {
    async take(ops: readonly BucketTake[], now: number) {
      if (ops.length === 0) return [];
      // One row per bucket in a statement: the same bucket twice would be a conflict with itself.
      const distinct = new Map(ops.map((o) => [o.id, o]));
      const list = [...distinct.values()];
      const r = await pool.query<{ id: string; tokens: number; granted: boolean }>(TAKE, [
        now,
        list.map((o) => o.id),
        list.map((o) => o.burst),
        list.map((o) => o.perMinute / 60_000),
        list.map((o) => o.need),
        list.map((o) => o.cost),
      ]);
      const byId = new Map(r.rows.map((row) => [row.id, row]));
      return ops.map((o) => {
        const row = byId.get(o.id);
        if (!row || row.granted) return 0;
        return Math.max(1, Math.ceil((o.need - Number(row.tokens)) / (o.perMinute / 60_000)));
      });
    },
    async sweep(now: number) {
      const r = await pool.query('DELETE FROM ferry_rate_buckets WHERE at + GREATEST(0, cap - tokens) / rate <= $1', [now]);
      return r.rowCount ?? 0;
    },
  };
};
