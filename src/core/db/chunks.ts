/**
 * Where the packaging code reads stored chunks from. The IndexedDB version is below; tests use
 * an in-memory one. Reads go in batches, with the next batch requested before the current one is
 * compressed, so IndexedDB's work (on the browser's side) overlaps the compression.
 */
import type { FerryDatabase } from './open.js';
import type { ChunkRecord } from './schema.js';

export interface ChunkStore {
  /** Up to `count` chunks of the session with `seq > afterSeq`, in order. */
  chunksAfter(sessionId: string, afterSeq: number, count: number): Promise<ChunkRecord[]>;
  /** Their keys only: the way round a batch that cannot be read because one record is bad. */
  chunkSeqsAfter(sessionId: string, afterSeq: number, count: number): Promise<number[]>;
  chunk(sessionId: string, seq: number): Promise<ChunkRecord | undefined>;
}

const after = (sessionId: string, afterSeq: number): IDBKeyRange => IDBKeyRange.bound([sessionId, afterSeq], [sessionId, Number.MAX_SAFE_INTEGER], true, false);

export const idbChunkStore = (db: FerryDatabase): ChunkStore => ({
  chunksAfter: (id, afterSeq, count) => db.getAll('chunks', after(id, afterSeq), count),
  chunkSeqsAfter: async (id, afterSeq, count) => (await db.getAllKeys('chunks', after(id, afterSeq), count)).map((k) => k[1]),
  chunk: (id, seq) => db.get('chunks', [id, seq]),
});

export const chunkRange = (sessionId: string): IDBKeyRange => IDBKeyRange.bound([sessionId, 0], [sessionId, Number.MAX_SAFE_INTEGER]);
