import { type FerryDatabase, isQuotaError } from '../../core/db/open.js';
import type { ChunkRecord, SessionRecord } from '../../core/db/schema.js';
import { encodeLine, type PendingMessage } from '../../shared/message.js';
import { emptyCounts, SEVERITIES, type SeverityCounts } from '../../shared/severity.js';
import { monitorError, warnOnce } from '../tools/monitor.js';
import { BATCH, flushTimingFor } from './batchPolicy.js';
import { createMessageBuffer } from './buffer.js';

/** Messages kept when IndexedDB is unavailable (the newest are kept). */
export const MEMORY_MODE_LIMIT = 10_000;

export interface WriterDeps {
  /** The database once it is ready; undefined means memory mode. */
  database: () => FerryDatabase | undefined;
  /** Resolves when the session may be written (its live lock is held). */
  ready: () => Promise<void>;
  /** The live session record, mutated in place as batches are written. */
  record: () => SessionRecord;
  maxBuffered: () => number;
  /** Frees at least `bytes` of storage (pruning); called on QuotaExceededError. */
  freeSpace: (bytes: number) => Promise<void>;
  /** Called after each stored batch with the bytes it added. */
  written: (bytes: number) => void;
  now: () => number;
}

export interface Writer {
  push(m: PendingMessage): void;
  /** Writes everything buffered; resolves when it is stored. */
  flush(): Promise<void>;
  /**
   * For pagehide: synchronously starts one transaction holding everything buffered and the
   * record after `finish` edits it, so it is queued before the page can go away. Resolves
   * true once that is stored, false if it was not (or there is no database).
   */
  flushOnExit(finish: (r: SessionRecord) => void): Promise<boolean>;
  buffered(): number;
  /** The session record changed without a message (user or context): store it with the next batch, or alone within BATCH.maxDelayMs. */
  touch(): void;
  /** Drops what is buffered and writes nothing more (the product's data is being deleted). */
  close(): void;
  /** In memory mode, the messages kept (newest last). */
  memory(): readonly PendingMessage[];
}

export interface Encoded {
  chunks: ChunkRecord[];
  counts: SeverityCounts;
  count: number;
  bytes: number;
  lastSeq: number;
}

/**
 * Chunk strings for the write at pagehide stay under this many characters, so a chunk record
 * serialises under 64 KB even as UTF-16: Chromium moves larger IndexedDB values as blobs
 * (IDBValueWrapper::kWrapThreshold), and a closing tab can be gone before their bytes are,
 * which loses the whole transaction (seen when a tab closed during a burst).
 */
export const EXIT_CHUNK_CHARS = 30 * 1024;

export const encodeBatch = (sessionId: string, msgs: readonly PendingMessage[], maxChars = Infinity): Encoded => {
  const idJson = JSON.stringify(sessionId);
  // Apps log under a handful of categories: each is serialised once per batch, not per message.
  const categories = new Map<string, string>();
  const categoryJson = (c: string): string => {
    let j = categories.get(c);
    if (j === undefined) categories.set(c, (j = JSON.stringify(c)));
    return j;
  };
  const out: Encoded = { chunks: [], counts: emptyCounts(), count: 0, bytes: 0, lastSeq: 0 };
  let i = 0;
  while (i < msgs.length) {
    const limit = Math.min(msgs.length, i + BATCH.chunkMessages);
    const counts = emptyCounts();
    // join, not +=: a flat string is cheaper to build and IndexedDB need not flatten a rope.
    const lines: string[] = [];
    let chars = 0;
    let end = i;
    while (end < limit) {
      const m = msgs[end];
      const line = encodeLine(idJson, m, categoryJson(m.category));
      if (end > i && chars + line.length > maxChars) break; // starts the next chunk
      lines.push(line);
      chars += line.length;
      counts[m.severity]++;
      end++;
    }
    const text = lines.join('');
    const first = msgs[i];
    const last = msgs[end - 1];
    out.chunks.push({ sessionId, seq: first.seq, lastSeq: last.seq, count: end - i, counts, bytes: text.length, text });
    for (const s of SEVERITIES) out.counts[s] += counts[s];
    out.count += end - i;
    out.bytes += text.length;
    out.lastSeq = last.seq;
    i = end;
  }
  return out;
};

/** Adds (sign 1) or takes back (sign -1) a batch's totals on the live record. */
const apply = (r: SessionRecord, e: Encoded, sign: 1 | -1): void => {
  for (const s of SEVERITIES) r.counts[s] += sign * e.counts[s];
  r.messageCount += sign * e.count;
  r.bytes += sign * e.bytes;
};

type Scheduler = { yield?: () => Promise<void> };
/** Gives the app the main thread between slices (scheduler.yield keeps our place in line; setTimeout is clamped to 4 ms). */
const yieldToApp = (): Promise<void> => {
  const s = (globalThis as { scheduler?: Scheduler }).scheduler;
  return s?.yield ? s.yield() : new Promise((resolve) => setTimeout(resolve, 0));
};

export const createWriter = (deps: WriterDeps): Writer => {
  const buffer = createMessageBuffer();
  let memory: PendingMessage[] = [];
  let timer: ReturnType<typeof setTimeout> | undefined;
  let soon: ReturnType<typeof setTimeout> | undefined;
  let queue: Promise<void> = Promise.resolve();
  /** The record has changes no stored batch carries yet. */
  let dirty = false;
  let closed = false;

  const schedule = (timing: 'now' | 'timer' | 'none'): void => {
    if (timing === 'now' && soon === undefined) {
      soon = setTimeout(() => {
        soon = undefined;
        void flush();
      }, 0);
    } else if (timing === 'timer') {
      timer = setTimeout(() => {
        timer = undefined;
        void flush();
      }, BATCH.maxDelayMs);
    }
  };

  const push = (m: PendingMessage): void => {
    if (closed) return;
    if (!buffer.push(m, deps.maxBuffered())) {
      deps.record().dropped.overflow++;
      warnOnce('overflow', 'message buffer full; dropping the least severe messages (counted in the session summary)');
    }
    schedule(flushTimingFor(m.severity, buffer.size, timer !== undefined));
  };

  const keepInMemory = (msgs: PendingMessage[]): void => {
    const r = deps.record();
    for (const m of msgs) {
      r.counts[m.severity]++;
      r.messageCount++;
      r.lastSeq = m.seq;
    }
    memory = memory.concat(msgs);
    const excess = memory.length - Math.min(deps.maxBuffered(), MEMORY_MODE_LIMIT);
    if (excess > 0) {
      memory = memory.slice(excess);
      r.dropped.overflow += excess;
    }
  };

  const put = async (db: FerryDatabase, e: Encoded, extra?: (r: SessionRecord) => void): Promise<void> => {
    const r = deps.record();
    apply(r, e, 1);
    if (e.lastSeq > r.lastSeq) r.lastSeq = e.lastSeq;
    r.heartbeatAt = deps.now();
    extra?.(r);
    dirty = false;
    const tx = db.transaction(['sessions', 'chunks'], 'readwrite');
    const chunks = tx.objectStore('chunks');
    for (const c of e.chunks) void chunks.put(c);
    void tx.objectStore('sessions').put(structuredClone(r));
    // Commit now rather than when the task ends: a document being unloaded by a navigation
    // may never get back to its event loop.
    tx.commit();
    try {
      await tx.done;
    } catch (err) {
      apply(r, e, -1);
      dirty = true;
      throw err;
    }
    deps.written(e.bytes);
  };

  const store = async (db: FerryDatabase, e: Encoded): Promise<void> => {
    try {
      await put(db, e);
    } catch (err) {
      if (!isQuotaError(err)) throw err;
      // Quota: prune by the storage policy, then try once more; a second refusal drops the
      // batch (counted), because retrying forever would grow the buffer without bound.
      await deps.freeSpace(Math.max(e.bytes * 2, 64 * 1024));
      try {
        await put(db, e);
      } catch (again) {
        if (!isQuotaError(again)) throw again;
        deps.record().dropped.overflow += e.count;
        warnOnce('quota', 'storage quota exceeded even after pruning; a batch of messages was dropped (counted)');
      }
    }
  };

  // The messages being written, taken from the buffer whole and sliced by index: splicing
  // slices off the front of a large buffer moves every remaining element each time.
  let draining: PendingMessage[] = [];
  let drainAt = 0;
  const nextSlice = (): PendingMessage[] | undefined => {
    if (drainAt >= draining.length) {
      if (buffer.size === 0) return undefined;
      draining = buffer.takeAll();
      drainAt = 0;
    }
    const take = draining.slice(drainAt, drainAt + BATCH.messagesPerTask);
    drainAt += take.length;
    return take;
  };
  const unwritten = (): number => draining.length - drainAt + buffer.size;

  const drain = async (): Promise<void> => {
    await deps.ready();
    // Transactions are queued without waiting for each to commit: IndexedDB runs them in order.
    const inFlight: Promise<void>[] = [];
    for (let take = nextSlice(); take; take = nextSlice()) {
      const db = deps.database();
      if (!db) {
        keepInMemory(take);
        continue;
      }
      const batch = take;
      inFlight.push(
        store(db, encodeBatch(deps.record().id, batch)).catch((err: unknown) => {
          deps.record().dropped.overflow += batch.length;
          monitorError('write', err);
        }),
      );
      if (unwritten() > 0) await yieldToApp();
    }
    // A change of the record that no batch above carried (every put takes the record as it is then).
    const db = deps.database();
    if (dirty && !closed && db) inFlight.push(store(db, encodeBatch(deps.record().id, [])).catch((err: unknown) => monitorError('write', err)));
    await Promise.all(inFlight);
  };

  const flush = (): Promise<void> => {
    if (timer !== undefined) {
      clearTimeout(timer);
      timer = undefined;
    }
    queue = queue.then(drain, drain);
    return queue;
  };

  const flushOnExit = (finish: (r: SessionRecord) => void): Promise<boolean> => {
    const db = deps.database();
    // Also what a drain in progress has not reached yet (it stops: nothing is left for it).
    const take = draining.slice(drainAt).concat(buffer.takeAll());
    draining = [];
    drainAt = 0;
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
    if (!db) {
      keepInMemory(take);
      finish(deps.record());
      return Promise.resolve(false);
    }
    return put(db, encodeBatch(deps.record().id, take, EXIT_CHUNK_CHARS), finish).then(
      () => true,
      (e: unknown) => {
        monitorError('exit write', e);
        return false;
      },
    );
  };

  return {
    push,
    flush,
    flushOnExit,
    buffered: unwritten,
    touch() {
      if (closed) return;
      dirty = true;
      if (timer === undefined) schedule('timer');
    },
    close() {
      // A timer still set finds nothing to write.
      closed = true;
      buffer.takeAll();
      draining = [];
      drainAt = 0;
      memory = [];
    },
    memory: () => memory,
  };
};
