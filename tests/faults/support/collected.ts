/** What a collector ends with, read back from its store or its read API, in the shape tally.compare() takes. */
import { gunzipSync } from 'node:zlib';
import type { Store } from '../../../src/server/store/types.js';
import { ADMIN_PATHS } from '../../../src/shared/protocol.js';
import { ADMIN } from '../../unit/server/harness.js';

export interface Delivered {
  seqs: number[];
  /** How many times the collector stored a detail for the session as new (not as an existing one). */
  stores: number;
}

const seqsOf = (gz: Uint8Array): number[] =>
  gunzipSync(gz)
    .toString('utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => (JSON.parse(l) as { seq: number }).seq);

const storesOf = (logs: readonly Record<string, unknown>[], id: string): number =>
  logs.filter((l) => l.msg === 'detail stored' && l.session === id && l.result !== 'existing').length;

/** Seqs of every message of each session the (in-process) collector's store holds a detail for. */
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
    if (gz) out.set(id, { seqs: seqsOf(gz), stores: storesOf(logs, id) });
  }
  return out;
};

/** The same, through a collector process's read API (its logs gathered over every run of the process). */
export const readDeliveredOverHttp = async (url: string, ids: Iterable<string>, logs: readonly Record<string, unknown>[]): Promise<Map<string, Delivered>> => {
  const out = new Map<string, Delivered>();
  for (const id of ids) {
    const res = await fetch(`${url}${ADMIN_PATHS.detail(id)}`, { headers: { authorization: `Bearer ${ADMIN}` } });
    if (res.status === 404) continue;
    if (!res.ok) throw new Error(`reading ${id}: ${res.status} ${await res.text()}`);
    out.set(id, { seqs: seqsOf(new Uint8Array(await res.arrayBuffer())), stores: storesOf(logs, id) });
  }
  return out;
};
