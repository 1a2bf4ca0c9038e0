/**
 * Decoded messages of stored sessions, with a cache bounded by bytes so paging through one
 * session is cheap and a few huge sessions cannot take the heap.
 */

import { promisify } from 'node:util';
import { gunzip as gunzipCb } from 'node:zlib';
import { decodeMessages, type LogMessage } from '../../shared/message.js';
import type { BlobStore } from '../store/blobs.js';

const gunzip = promisify(gunzipCb);

/** Default heap the cache may hold (estimated, see `heapEstimate`): two sessions at the largest size the collector accepts. */
export const DEFAULT_MESSAGE_CACHE_BYTES = 256 * 1024 * 1024;

export interface MessageReader {
  /** All messages of a stored detail blob, in `seq` order; undefined when the blob is missing. */
  read(sha256: string): Promise<LogMessage[] | undefined>;
  /** Drops a blob's messages from the cache (its session was deleted). */
  forget(sha256: string): void;
  /** Estimated bytes held now. */
  readonly cachedBytes: number;
}

/**
 * Heap a decoded session takes, from its NDJSON length in characters and its message count.
 * Measured with `--expose-gc` on 100k realistic messages (text + details): 1.15 bytes of heap per
 * NDJSON character, object headers included; the estimate adds a margin (1.5 per character plus
 * 64 bytes a message) for text outside Latin-1, which V8 keeps at 2 bytes a character.
 */
export const heapEstimate = (ndjsonLength: number, messages: number): number => Math.ceil(1.5 * ndjsonLength) + 64 * messages;

/** A detail blob's messages in `seq` order. `maxBytes` guards against a tampered file on disk (the blob passed the same limit on the way in). */
export const decodeDetail = async (gz: Uint8Array, maxBytes: number): Promise<{ messages: LogMessage[]; textLength: number }> => {
  const text = (await gunzip(gz, { maxOutputLength: Math.max(maxBytes, 1) })).toString('utf8');
  return { messages: decodeMessages(text).sort((a, b) => a.seq - b.seq), textLength: text.length };
};

export const createMessageReader = (blobs: BlobStore, maxBytes: number, cacheBytes = DEFAULT_MESSAGE_CACHE_BYTES): MessageReader => {
  const cache = new Map<string, { messages: LogMessage[]; bytes: number }>();
  let held = 0;
  const drop = (sha: string): void => {
    const e = cache.get(sha);
    if (!e) return;
    cache.delete(sha);
    held -= e.bytes;
  };
  return {
    async read(sha) {
      const hit = cache.get(sha);
      if (hit) {
        cache.delete(sha);
        cache.set(sha, hit);
        return hit.messages;
      }
      const gz = await blobs.read(sha);
      if (!gz) return undefined;
      const { messages, textLength } = await decodeDetail(gz, maxBytes);
      const bytes = heapEstimate(textLength, messages.length);
      // A session larger than the whole cache is served but not kept.
      if (bytes > cacheBytes) return messages;
      drop(sha);
      cache.set(sha, { messages, bytes });
      held += bytes;
      while (held > cacheBytes) drop(cache.keys().next().value as string);
      return messages;
    },
    forget: drop,
    get cachedBytes() {
      return held;
    },
  };
};
