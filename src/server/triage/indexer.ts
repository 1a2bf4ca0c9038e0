/**
 * Indexes stored detail for triage: exception groups and search entries (session-index.ts), right
 * after the detail is stored, and catches up on start-up with any detail a crash or an error left
 * unindexed (the session's `indexed_sha256` differs from its detail). Indexing never fails an
 * ingest request: the detail is already stored and acknowledged data is never lost for an index.
 */
import type { Logger } from '../log.js';
import { decodeDetail } from '../read/messages.js';
import type { Store } from '../store/types.js';
import { buildSessionIndex } from './session-index.js';

export interface Indexer {
  /** Indexes a session's current detail (no-op without detail). */
  index(sessionId: string): Promise<void>;
  /** Indexes every stored detail not indexed yet; returns how many sessions it indexed. */
  catchUp(): Promise<number>;
}

export const createIndexer = (d: { store: Store; maxBytes: number; log: Logger }): Indexer => {
  const indexOne = async (s: { id: string; product: string; sha256: string; clockOffsetMs: number }): Promise<boolean> => {
    const gz = await d.store.blobs.read(s.sha256);
    if (!gz) {
      d.log.warn('detail blob missing: session not indexed', { session: s.id });
      return false;
    }
    const { messages } = await decodeDetail(gz, d.maxBytes);
    return d.store.indexSession(buildSessionIndex(s, messages));
  };

  return {
    async index(sessionId) {
      try {
        const s = await d.store.getSession(sessionId);
        if (!s?.detail) return;
        await indexOne({ id: sessionId, product: s.summary.product, sha256: s.detail.sha256, clockOffsetMs: s.clockOffsetMs });
      } catch (e) {
        d.log.error('indexing failed (caught up at the next start-up)', { session: sessionId, err: e });
      }
    },
    async catchUp() {
      let n = 0;
      const failed = new Set<string>();
      for (;;) {
        const todo = (await d.store.sessionsToIndex(100 + failed.size)).filter((s) => !failed.has(s.id));
        if (todo.length === 0) return n;
        for (const s of todo) {
          try {
            if (await indexOne(s)) n++;
            else failed.add(s.id);
          } catch (e) {
            failed.add(s.id);
            d.log.error('indexing failed', { session: s.id, err: e });
          }
        }
      }
    },
  };
};

/** The store with indexing after every detail stored: the one place ingest is hooked. */
export const withIndexing = (store: Store, indexer: Indexer): Store => ({
  ...store,
  async storeDetail(detail, blob, uploadId) {
    const r = await store.storeDetail(detail, blob, uploadId);
    if (r !== 'existing') await indexer.index(detail.sessionId);
    return r;
  },
  async storePackage(pkg, sessions) {
    const r = await store.storePackage(pkg, sessions);
    for (const s of r) if (s.stored === 'new') await indexer.index(s.id);
    return r;
  },
});
