/**
 * Verifies a finished detail upload before anything is stored: the SHA-256 the agent declared,
 * then gunzip with the decompressed size counted as output is produced (a gzip bomb is stopped
 * at the limit, never inflated in full), then every NDJSON line.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { type Readable, Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { ApiError } from '../errors.js';
import { createNdjsonChecker, type NdjsonStats } from './ndjson-check.js';

export const sha256File = async (file: string): Promise<string> => {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(file)) h.update(chunk as Buffer);
  return h.digest('hex');
};

export interface DetailCheck {
  sessionId: string;
  sha256: string;
  maxDecompressedBytes: number;
}

/** Gunzips `source` with a cap on output, feeding each decompressed chunk to `onChunk`. */
export const gunzipLimited = async (source: Readable, maxBytes: number, onChunk: (chunk: Buffer) => void, what: string): Promise<number> => {
  let out = 0;
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      out += chunk.length;
      if (out > maxBytes) return done(new ApiError(413, 'too-large', `${what} decompresses to more than ${maxBytes} bytes`));
      try {
        onChunk(chunk);
        done();
      } catch (e) {
        done(e as Error);
      }
    },
  });
  let read = 0;
  const counted = new Transform({
    transform(chunk: Buffer, _enc, done) {
      read += chunk.length;
      done(null, chunk);
    },
  });
  const gunzip = createGunzip({ chunkSize: 64 * 1024 });
  try {
    // pipeline destroys every stream on the first error: at the limit, reading and inflating stop.
    await pipeline(source, counted, gunzip, sink);
  } catch (e) {
    if (e instanceof ApiError) throw e;
    throw new ApiError(400, 'bad-gzip', `${what} is not a complete gzip stream (${(e as Error).message})`);
  }
  // zlib skips zero bytes after the last member without a word (tar padding); the blob is stored
  // as it is, and stricter readers (a browser's DecompressionStream) refuse such a file.
  if (gunzip.bytesWritten !== read)
    throw new ApiError(400, 'bad-gzip', `${what} has ${read - gunzip.bytesWritten} bytes of trailing data after its gzip stream`);
  return out;
};

export const checkDetailFile = async (file: string, c: DetailCheck): Promise<NdjsonStats> => {
  const actual = await sha256File(file);
  if (actual !== c.sha256) throw new ApiError(400, 'sha256-mismatch', `upload SHA-256 is ${actual}, metadata sha256 said ${c.sha256}`);
  const checker = createNdjsonChecker(c.sessionId, 'detail');
  await gunzipLimited(createReadStream(file, { highWaterMark: 256 * 1024 }), c.maxDecompressedBytes, (chunk) => checker.push(chunk), 'detail');
  return checker.end();
};
