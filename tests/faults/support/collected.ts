/** What a collector ends with, read back from its store, in the shape tally.compare() takes. */
import { gunzipSync } from 'node:zlib';
import type { Store } from '../../../src/server/store/types.js';

export interface Delivered {
  seqs: number[];
  /** How many times the collector stored a detail for the session as new (not as an existing one). */
  stores: number;
}

/** Seqs of every message of each session the store holds a detail for. */
export const readDelivered = async (
  store: Pick<Store, 'getSession' | 'blobs'>,
  ids: Iterable<string>,
  logs: readonly Record<string, unknown>[],
): Promise<Map<string, Delivered>> => {
  const out = new Map<string, Delivered>();
  for (const id of ids) {
    const s = await store.getSession(id);
    if (!s?.detail) continue;
    const gz = await store.blobs.read(s.detail.sha256);
    if (!gz) continue;
    const seqs = gunzipSync(gz)
      .toString('utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => (JSON.parse(l) as { seq: number }).seq);
    const stores = logs.filter((l) => l.msg === 'detail stored' && l.session === id && l.result !== 'existing').length;
    out.set(id, { seqs, stores });
  }
  return out;
};
