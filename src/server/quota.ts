/**
 * Per-product disk quotas (config `quota`, `products.<name>.quota`). Ingest keys are public, so
 * one holder could otherwise fill the disk: with unfinished uploads (kept 24 h, up to 32 MiB
 * each) or with stored detail faster than retention deletes it. Past a quota new detail is
 * refused with `507 quota-exceeded` and `Retry-After`: 507 is a 5xx, so agents keep the data and
 * try again later (a 4xx would park the session), and room comes back as uploads finish or expire
 * and retention runs. Summaries are never refused for it: they are small, rate limited, and what
 * tells an operator the product is there at all.
 */
import { type CollectorConfig, quotaOf } from './config.js';
import { ApiError } from './errors.js';
import type { Store } from './store/types.js';

/** Seconds an agent is told to wait: about one cleanup or retention run frees room. */
const RETRY_AFTER_S = 600;
/**
 * How long a product's stored total is reused: it is a sum over all its sessions, too costly for
 * every upload at a few million sessions. The quota may be passed by what arrives in that time.
 */
const STORED_CACHE_MS = 10_000;

export interface Quota {
  /** Throws 507 when a new upload of `bytes` would pass the product's in-progress or stored quota. */
  checkUpload(product: string, bytes: number): Promise<void>;
  /** Throws 507 when storing `bytes` more (a package) would pass the product's stored quota. */
  checkStored(product: string, bytes: number): Promise<void>;
}

const refuse = (what: string, used: number, adding: number, limit: number): ApiError =>
  new ApiError(507, 'quota-exceeded', `${what}: this product has ${used} bytes, ${adding} more would pass its quota of ${limit}; try again later`, {
    'Retry-After': String(RETRY_AFTER_S),
  });

export const createQuota = (o: { config: CollectorConfig; store: Store; now: () => number }): Quota => {
  const cache = new Map<string, { bytes: number; at: number }>();
  const storedBytes = async (product: string): Promise<number> => {
    const t = o.now();
    const hit = cache.get(product);
    if (hit && t - hit.at < STORED_CACHE_MS) return hit.bytes;
    const bytes = await o.store.productStoredBytes(product);
    cache.set(product, { bytes, at: t });
    return bytes;
  };
  const checkStoredNow = (product: string, storedBytes: number, bytes: number): void => {
    const limit = quotaOf(o.config, product).storedBytes;
    if (limit > 0 && storedBytes + bytes > limit) throw refuse('stored bytes', storedBytes, bytes, limit);
  };
  return {
    async checkUpload(product, bytes) {
      const q = quotaOf(o.config, product);
      if (q.storedBytes === 0 && q.uploadBytes === 0) return;
      // Open uploads are few rows (found by the state index): counted afresh for every creation.
      const open = await o.store.productUploadBytes(product, o.now());
      if (q.uploadBytes > 0 && open + bytes > q.uploadBytes) throw refuse('unfinished uploads', open, bytes, q.uploadBytes);
      // What is being uploaded will be stored too.
      if (q.storedBytes > 0) checkStoredNow(product, (await storedBytes(product)) + open, bytes);
    },
    async checkStored(product, bytes) {
      if (quotaOf(o.config, product).storedBytes === 0) return;
      checkStoredNow(product, await storedBytes(product), bytes);
    },
  };
};
