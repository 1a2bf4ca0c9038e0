/**
 * An upload lock shared by every collector replica on one PostgreSQL database, so two replicas
 * behind a load balancer never write the same tus upload at once. Inside one process the tus
 * MemoryLocker still runs first (it asks a stalled holder to let go, as tus expects); across
 * processes a session-level advisory lock, held on a dedicated connection while the request
 * writes, does the rest.
 */

import { createHash } from 'node:crypto';
import { ERRORS, type Lock, type Locker, MemoryLocker, type RequestRelease } from '@tus/server';
import pg from 'pg';

/**
 * The advisory lock key of an upload: the first 8 bytes of SHA-256 of `ferry:upload:<id>`, as a
 * signed 64-bit integer (PostgreSQL's bigint), in decimal. A 32-bit key (`hashtext`) collides
 * after some 77,000 uploads at even odds, and two colliding uploads would wait on each other; at
 * 64 bits that takes some 5 billion. The prefix keeps the keys apart from other users of the
 * one-key lock space (the migration and rate-table locks are small constants).
 */
export const uploadLockKey = (id: string): string => createHash('sha256').update(`ferry:upload:${id}`).digest().readBigInt64BE(0).toString();

export interface PgLockerOptions {
  /** Connections for held locks: the most uploads one replica writes at the same moment. */
  maxConnections?: number;
  acquireTimeoutMs?: number;
  pollMs?: number;
}

export const createPgLocker = (url: string, o: PgLockerOptions = {}): Locker & { close(): Promise<void> } => {
  const pool = new pg.Pool({ connectionString: url, max: o.maxConnections ?? 32 });
  pool.on('error', () => {});
  // A lock's connection lost while held (checked out) must not end the process; see postgres-db.ts.
  pool.on('connect', (c) => c.on('error', () => {}));
  const local = new MemoryLocker({ acquireLockTimeout: o.acquireTimeoutMs ?? 30_000 });
  const timeout = o.acquireTimeoutMs ?? 30_000;
  const poll = o.pollMs ?? 25;
  return {
    newLock(id: string): Lock {
      const inProcess = local.newLock(id);
      const key = uploadLockKey(id);
      let client: pg.PoolClient | undefined;
      return {
        async lock(signal: AbortSignal, cancelReq: RequestRelease) {
          await inProcess.lock(signal, cancelReq);
          const deadline = Date.now() + timeout;
          try {
            client = await pool.connect();
            for (;;) {
              const r = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1::bigint) AS ok', [key]);
              if (r.rows[0]?.ok) return;
              if (signal.aborted || Date.now() > deadline) throw ERRORS.ERR_LOCK_TIMEOUT;
              await new Promise((res) => setTimeout(res, poll));
            }
          } catch (e) {
            client?.release();
            client = undefined;
            await inProcess.unlock();
            throw e;
          }
        },
        async unlock() {
          const c = client;
          client = undefined;
          if (c) {
            try {
              await c.query('SELECT pg_advisory_unlock($1::bigint)', [key]);
              c.release();
            } catch (e) {
              // A connection that cannot unlock must not return to the pool still holding the lock.
              c.release(e as Error);
            }
          }
          await inProcess.unlock();
        },
      };
    },
    close: () => pool.end(),
  };
};
