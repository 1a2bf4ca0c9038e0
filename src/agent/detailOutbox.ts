/**
 * Writes a session's detail (its NDJSON, gzip-compressed) and SHA-256 into the outbox: what the
 * tus upload sends. DOM-free, so the page, the worker and the service worker can all call it.
 * Chunks stream through CompressionStream one at a time, so memory holds one chunk of text
 * plus the compressed output (about a ninth of the raw size for log NDJSON).
 */
import { chunkRange, type FerryDatabase } from './repository.js';
import type { ChunkRecord } from './schema.js';

const toHex = (buf: ArrayBuffer): string => Array.from(new Uint8Array(buf), (b) => b.toString(16).padStart(2, '0')).join('');

export const writeDetailToOutbox = async (db: FerryDatabase, sessionId: string, now: () => number = Date.now): Promise<void> => {
  const cs = new CompressionStream('gzip');
  const compressed = new Response(cs.readable).blob();
  const writer = cs.writable.getWriter();
  const encoder = new TextEncoder();
  // Read chunk by chunk (a fresh transaction each), so no transaction stays open across awaits.
  let next: [string, number] | undefined = [sessionId, 0];
  while (next) {
    const range: IDBKeyRange = IDBKeyRange.bound(next, [sessionId, Number.MAX_SAFE_INTEGER], true, false);
    const chunk: ChunkRecord | undefined = await db.get('chunks', next[1] === 0 ? chunkRange(sessionId) : range);
    if (!chunk) break;
    await writer.write(encoder.encode(chunk.text));
    next = [sessionId, chunk.seq];
  }
  await writer.close();
  const blob = await compressed;
  const sha256 = toHex(await crypto.subtle.digest('SHA-256', await blob.arrayBuffer()));
  await db.put('outbox', { sessionId, blob, sha256, size: blob.size, createdAt: now(), offset: 0 });
};
