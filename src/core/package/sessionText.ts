/**
 * Streams one session's stored NDJSON into a compressor: chunks read in batches (the next batch
 * requested before the current one is compressed), each checked, encoded into one reused buffer
 * and written. Chunks that cannot be used are left out and reported, never fatal.
 */
import type { PackageProblem } from '../../shared/package-format.js';
import type { GzipWriter } from '../codec/gzipStream.js';
import type { ChunkStore } from '../db/chunks.js';
import type { ChunkRecord } from '../db/schema.js';
import { checkChunk } from './chunkCheck.js';

/** Chunks per IndexedDB read; the writer stores up to 1,000 messages (~200 KB) per chunk. */
const BATCH = 32;

type Slot = { seq: number; record: ChunkRecord } | { seq: number; error: unknown };

const describe = (e: unknown): string => (e instanceof Error ? `${e.name}: ${e.message}` : String(e));

/** One batch; when the batch cannot be read (a record that fails to deserialise), record by record. */
const readBatch = async (store: ChunkStore, sessionId: string, afterSeq: number): Promise<Slot[]> => {
  try {
    return (await store.chunksAfter(sessionId, afterSeq, BATCH)).map((record) => ({ seq: record.seq, record }));
  } catch {
    const seqs = await store.chunkSeqsAfter(sessionId, afterSeq, BATCH);
    const slots: Slot[] = [];
    for (const seq of seqs) {
      try {
        const record = await store.chunk(sessionId, seq);
        if (record) slots.push({ seq, record });
      } catch (error) {
        slots.push({ seq, error });
      }
    }
    return slots;
  }
};

export interface SessionTextOptions {
  /** Chunks starting after this seq are left out: the running session, frozen when packaging began. */
  untilSeq?: number;
  signal?: AbortSignal;
  /** Called after each chunk with the NDJSON bytes written so far for this session. */
  onBytes?: (bytes: number) => void;
}

export interface SessionTextResult {
  /** UTF-8 bytes of NDJSON written. */
  bytes: number;
  /** Highest seq written (0 when nothing was). */
  lastSeq: number;
}

export const writeSessionText = async (
  store: ChunkStore,
  sessionId: string,
  out: GzipWriter,
  problems: PackageProblem[],
  options: SessionTextOptions = {},
): Promise<SessionTextResult> => {
  const encoder = new TextEncoder();
  let buffer = new Uint8Array(256 * 1024);
  let bytes = 0;
  let lastSeq = 0;
  let next: Promise<Slot[]> | undefined = readBatch(store, sessionId, -Infinity);
  while (next) {
    const slots: Slot[] = await next;
    options.signal?.throwIfAborted();
    const end: boolean = slots.length < BATCH || slots.some((s) => options.untilSeq !== undefined && s.seq > options.untilSeq);
    next = end ? undefined : readBatch(store, sessionId, slots[slots.length - 1].seq);
    // A prefetch that is dropped (cancel, error) must not surface as an unhandled rejection.
    next?.catch(() => {});
    for (const slot of slots) {
      if (options.untilSeq !== undefined && slot.seq > options.untilSeq) break;
      if ('error' in slot) {
        problems.push({ sessionId, chunkSeq: slot.seq, reason: `the record cannot be read (${describe(slot.error)})` });
        continue;
      }
      const verdict = checkChunk(slot.record, sessionId, lastSeq);
      if (!verdict.ok) {
        problems.push({ sessionId, chunkSeq: slot.seq, reason: verdict.reason });
        continue;
      }
      const text = verdict.text;
      // UTF-8 needs at most 3 bytes per UTF-16 unit.
      if (buffer.length < text.length * 3) buffer = new Uint8Array(text.length * 3);
      const { written } = encoder.encodeInto(text, buffer);
      await out.write(buffer.subarray(0, written));
      bytes += written;
      lastSeq = verdict.lastSeq;
      options.onBytes?.(bytes);
    }
    options.signal?.throwIfAborted();
  }
  return { bytes, lastSeq };
};

/** Inline NDJSON (a session kept only in page memory) written the same way. */
export const writeText = async (text: string, out: GzipWriter): Promise<number> => {
  const bytes = new TextEncoder().encode(text) as Uint8Array<ArrayBuffer>;
  await out.write(bytes);
  return bytes.length;
};
