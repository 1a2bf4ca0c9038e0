/** Decoded messages of stored sessions, with a small cache so paging through one session is cheap. */

import { promisify } from 'node:util';
import { gunzip as gunzipCb } from 'node:zlib';
import { decodeMessages, type LogMessage } from '../../shared/message.js';
import type { BlobStore } from '../store/blobs.js';

const gunzip = promisify(gunzipCb);

export interface MessageReader {
  /** All messages of a stored detail blob, in `seq` order; undefined when the blob is missing. */
  read(sha256: string): Promise<LogMessage[] | undefined>;
}

export const createMessageReader = (blobs: BlobStore, maxBytes: number, cacheSize = 8): MessageReader => {
  const cache = new Map<string, LogMessage[]>();
  return {
    async read(sha) {
      const hit = cache.get(sha);
      if (hit) {
        cache.delete(sha);
        cache.set(sha, hit);
        return hit;
      }
      const gz = await blobs.read(sha);
      if (!gz) return undefined;
      // The blob passed the same limit on the way in; the cap here only guards against a
      // tampered file on disk.
      const text = (await gunzip(gz, { maxOutputLength: Math.max(maxBytes, 1) })).toString('utf8');
      const messages = decodeMessages(text).sort((a, b) => a.seq - b.seq);
      cache.set(sha, messages);
      if (cache.size > cacheSize) cache.delete(cache.keys().next().value as string);
      return messages;
    },
  };
};
