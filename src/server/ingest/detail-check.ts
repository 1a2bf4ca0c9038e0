/**
 * Verifies a finished detail upload before anything is stored: the SHA-256 the agent declared,
 * then gunzip with the decompressed size counted as output is produced (a gzip bomb is stopped
 * at the limit, never inflated in full), then every NDJSON line.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
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
export const gunzipLimited = async (
  source: AsyncIterable<Buffer> | Iterable<Buffer>,
  maxBytes: number,
  onChunk: (chunk: Buffer) => void,
  what: string,
): Promise<number> => {
  const gunzip = createGunzip();
  let out = 0;
  const feed = (async () => {
    try {
      for await (const chunk of source) {
        if (!gunzip.write(chunk)) await new Promise<void>((r) => gunzip.once('drain', r));
        if (gunzip.destroyed) return;
      }
      gunzip.end();
    } catch (e) {
      gunzip.destroy(e as Error);
    }
  })();
  try {
    for await (const chunk of gunzip) {
      out += (chunk as Buffer).length;
      if (out > maxBytes) throw new ApiError(413, 'too-large', `${what} decompresses to more than ${maxBytes} bytes`);
      onChunk(chunk as Buffer);
    }
  } catch (e) {
    gunzip.destroy();
    if (e instanceof ApiError) throw e;
    throw new ApiError(400, 'bad-gzip', `${what} is not a complete gzip stream (${(e as Error).message})`);
  } finally {
    await feed;
  }
  return out;
};

export const checkDetailFile = async (file: string, c: DetailCheck): Promise<NdjsonStats> => {
  const actual = await sha256File(file);
  if (actual !== c.sha256) throw new ApiError(400, 'sha256-mismatch', `upload SHA-256 is ${actual}, metadata sha256 said ${c.sha256}`);
  const checker = createNdjsonChecker(c.sessionId, 'detail');
  await gunzipLimited(createReadStream(file) as AsyncIterable<Buffer>, c.maxDecompressedBytes, (chunk) => checker.push(chunk), 'detail');
  return checker.end();
};
