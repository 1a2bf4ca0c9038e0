/**
 * Blob references under concurrency. Blobs are content-addressed, so two requests may write the
 * same blob at once, and a blob one request finds unreferenced may be the one another request is
 * about to commit a row for. Two rules keep every committed row's blob present:
 *
 * - a transaction that commits a reference to a blob holds that blob's lock and checks, under it,
 *   that the blob still exists (writing it again when a remover took it meanwhile);
 * - a blob is removed only under its lock, and only while no committed row references it.
 *
 * PostgreSQL: a transaction-scoped advisory lock per blob (two-key form, so it never collides with
 * the one-key locks of pg-locker.ts). SQLite: every transaction of the collector runs alone
 * (BEGIN IMMEDIATE behind the connection's mutex), which is the lock.
 */
import type { BlobSource, BlobStore } from './blobs.js';
import type { Db, Queryable } from './db.js';

/** First key of the advisory locks on blobs ("Fblb"). */
const BLOB_LOCK_CLASS = 0x46626c62;

/** 32 bits of the hash as a signed int4; a collision only makes two blobs share a lock. */
const lockKey = (sha: string): number => Number.parseInt(sha.slice(0, 8), 16) | 0;

export interface BlobRefs {
  /**
   * Inside a transaction that will reference these blobs: takes their locks (sorted, so two
   * transactions never wait on each other in a cycle) and makes sure each blob exists.
   */
  hold(q: Queryable, blobs: readonly { sha256: string; source: BlobSource }[]): Promise<void>;
  /** Removes each blob that no committed session row references, each under its lock. */
  removeUnreferenced(shas: Iterable<string>): Promise<void>;
}

export const createBlobRefs = (db: Db, blobs: BlobStore): BlobRefs => {
  const lock = async (q: Queryable, shas: readonly string[]): Promise<void> => {
    if (db.dialect !== 'postgres') return;
    const keys = [...new Set(shas.map(lockKey))].sort((a, b) => a - b);
    for (const k of keys) await q.all(`SELECT pg_advisory_xact_lock(CAST(? AS INTEGER), CAST(? AS INTEGER))`, [BLOB_LOCK_CLASS, k]);
  };
  return {
    async hold(q, list) {
      await lock(
        q,
        list.map((b) => b.sha256),
      );
      const seen = new Set<string>();
      for (const b of list) {
        if (seen.has(b.sha256)) continue;
        seen.add(b.sha256);
        if (!(await blobs.has(b.sha256))) await blobs.put(b.sha256, b.source);
      }
    },
    async removeUnreferenced(shas) {
      for (const sha of new Set(shas)) {
        await db.tx(async (q) => {
          await lock(q, [sha]);
          const used = await q.all(`SELECT 1 AS x FROM sessions WHERE detail_sha256 = ? LIMIT 1`, [sha]);
          if (used.length === 0) await blobs.remove(sha);
        });
      }
    },
  };
};
