/**
 * An upload lock shared by every collector replica on one PostgreSQL database, so two replicas
 * behind a load balancer never write the same tus upload at once. Inside one process the tus
 * MemoryLocker still runs first (it asks a stalled holder to let go, as tus expects); across
 * processes a session-level advisory lock, held on a dedicated connection while the request
 * writes, does the rest.
 */

import { ERRORS, type Lock, type Locker, MemoryLocker, type RequestRelease } from '@tus/server';
import pg from 'pg';

// The first key of the two-key advisory lock space: keeps Ferry's locks apart from anyone else's.
const NAMESPACE = 0x46e2;

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
      let client: pg.PoolClient | undefined;
      return {
        async lock(signal: AbortSignal, cancelReq: RequestRelease) {
          await inProcess.lock(signal, cancelReq);
          const deadline = Date.now() + timeout;
          try {
            client = await pool.connect();
            for (;;) {
              const r = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1, hashtext($2)) AS ok', [NAMESPACE, id]);
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
              await c.query('SELECT pg_advisory_unlock($1, hashtext($2))', [NAMESPACE, id]);
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
