/**
 * Indexes stored detail for triage: exception groups and search entries (session-index.ts). A
 * stored detail is queued and indexed in the background, one session at a time, so an ingest
 * reply never waits for the index and concurrent uploads never each hold a decoded session
 * (~1.2× its NDJSON size in heap, 64 MiB at most). What a crash or an error leaves unindexed (the
 * session's `indexed_sha256` differs from its detail) is indexed at start-up (`catchUp`).
 */
import type { Logger } from '../log.js';
import { decodeDetail } from '../read/messages.js';
import type { Store } from '../store/types.js';
import { buildSessionIndex } from './session-index.js';

export interface Indexer {
  /** Queues a session's current detail for indexing (no-op without detail). */
  enqueue(sessionId: string): void;
  /** Resolves when the queue is empty and nothing is being indexed. */
  idle(): Promise<void>;
  /** Indexes every stored detail not indexed yet; returns how many sessions it indexed. */
  catchUp(): Promise<number>;
  /** Stops after the session being indexed (the rest is caught up at the next start-up). */
  stop(): Promise<void>;
}

interface Target {
  id: string;
  product: string;
  sha256: string;
  clockOffsetMs: number;
}

export const createIndexer = (d: { store: Store; maxBytes: number; log: Logger }): Indexer => {
  const queue = new Set<string>();
  let running: Promise<void> | undefined;
  let stopped = false;
  let waiters: (() => void)[] = [];

  const indexNow = async (s: Target): Promise<boolean> => {
    const gz = await d.store.blobs.read(s.sha256);
    if (!gz) {
      d.log.warn('detail blob missing: session not indexed', { session: s.id });
      return false;
    }
    const { messages } = await decodeDetail(gz, d.maxBytes);
    return d.store.indexSession(buildSessionIndex(s, messages));
  };

  const drain = async (): Promise<void> => {
    while (!stopped && queue.size > 0) {
      const id = queue.values().next().value as string;
      queue.delete(id);
      try {
        const s = await d.store.getSession(id);
        if (s?.detail) await indexNow({ id, product: s.summary.product, sha256: s.detail.sha256, clockOffsetMs: s.clockOffsetMs });
      } catch (e) {
        d.log.error('indexing failed (caught up at the next start-up)', { session: id, err: e });
      }
    }
    running = undefined;
    const w = waiters;
    waiters = [];
    for (const r of w) r();
  };

  return {
    enqueue(sessionId) {
      if (stopped) return;
      queue.add(sessionId);
      running ??= drain();
    },
    idle: () => (running ? new Promise<void>((r) => waiters.push(r)) : Promise.resolve()),
    async catchUp() {
      let n = 0;
      const failed = new Set<string>();
      while (!stopped) {
        const todo = (await d.store.sessionsToIndex(100 + failed.size)).filter((s) => !failed.has(s.id));
        if (todo.length === 0) break;
        for (const s of todo) {
          if (stopped) break;
          try {
            if (await indexNow(s)) n++;
            else failed.add(s.id);
          } catch (e) {
            failed.add(s.id);
            d.log.error('indexing failed', { session: s.id, err: e });
          }
        }
      }
      return n;
    },
    async stop() {
      stopped = true;
      queue.clear();
      await running;
    },
  };
};

/** The store with every stored detail queued for indexing: the one place ingest is hooked. */
export const withIndexing = (store: Store, indexer: Indexer): Store => ({
  ...store,
  async storeDetail(detail, blob, uploadId) {
    const r = await store.storeDetail(detail, blob, uploadId);
    if (r !== 'existing') indexer.enqueue(detail.sessionId);
    return r;
  },
  async storePackage(pkg, sessions) {
    const r = await store.storePackage(pkg, sessions);
    for (const s of r) if (s.stored === 'new') indexer.enqueue(s.id);
    return r;
  },
});
