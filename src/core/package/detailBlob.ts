/**
 * A session's detail blob for the tus upload (DESIGN.md §2 step 3, §4.2): its NDJSON gzipped in
 * one stream, with the SHA-256 of the blob, written to the `outbox` store. Memory stays at about
 * the compressed size (a 50 MB session is never held as text), and the SHA-256 is taken over the
 * finished blob because Web Crypto has no incremental digest.
 */
import type { PackageProblem } from '../../shared/package-format.js';
import { createBlobSink } from '../codec/blobSink.js';
import type { CompressionEngine } from '../codec/engine.js';
import { createGzipWriter } from '../codec/gzipStream.js';
import type { ChunkStore } from '../db/chunks.js';
import type { FerryDatabase } from '../db/open.js';
import type { OutboxRecord } from '../db/schema.js';
import { writeSessionText } from './sessionText.js';

export interface DetailBlob {
  blob: Blob;
  /** Hex SHA-256 of `blob`. */
  sha256: string;
  /** NDJSON bytes before compression. */
  rawBytes: number;
  lastSeq: number;
  problems: PackageProblem[];
}

export const sha256Hex = async (blob: Blob): Promise<string> => {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', await blob.arrayBuffer()));
  let hex = '';
  for (const b of digest) hex += b.toString(16).padStart(2, '0');
  return hex;
};

/** Gzips a session's stored NDJSON (up to `untilSeq` when given). */
export const gzipSession = async (
  store: ChunkStore,
  sessionId: string,
  engine: CompressionEngine,
  options: { untilSeq?: number; signal?: AbortSignal } = {},
): Promise<DetailBlob> => {
  const sink = createBlobSink('application/gzip');
  const gz = createGzipWriter(engine, (c) => sink.push(c));
  const problems: PackageProblem[] = [];
  let r;
  try {
    r = await writeSessionText(store, sessionId, gz, problems, options);
    await gz.close();
  } catch (e) {
    gz.abort(e);
    throw e;
  }
  const blob = sink.finish();
  return { blob, sha256: await sha256Hex(blob), rawBytes: r.bytes, lastSeq: r.lastSeq, problems };
};

/**
 * Compresses a stored session into the outbox, replacing an earlier blob of it (whose upload,
 * if any, no longer matches). A running session is taken up to its last stored batch.
 */
export const compressSessionToOutbox = async (
  db: FerryDatabase,
  store: ChunkStore,
  sessionId: string,
  engine: CompressionEngine,
  now: number,
): Promise<DetailBlob> => {
  const session = await db.get('sessions', sessionId);
  if (!session) throw new Error(`session ${sessionId} is not stored`);
  const detail = await gzipSession(store, sessionId, engine, { untilSeq: session.status === 'running' ? session.lastSeq : undefined });
  const record: OutboxRecord = {
    sessionId,
    blob: detail.blob,
    sha256: detail.sha256,
    size: detail.blob.size,
    lastSeq: session.lastSeq,
    createdAt: now,
    offset: 0,
  };
  await db.put('outbox', record);
  return detail;
};
