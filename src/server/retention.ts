/**
 * Retention: per product, sessions last received longer ago than `maxAgeDays`, then the oldest
 * sessions beyond `maxBytes`, are deleted with everything derived from them (store deleteSessions),
 * and package records older than `maxAgeDays` go too. Runs at start-up and every `intervalMs`.
 */
import type { CollectorConfig, RetentionLimitsConfig } from './config.js';
import type { Logger } from './log.js';
import type { MessageReader } from './read/messages.js';
import type { Store } from './store/types.js';

const DAY = 24 * 3600_000;
/** Sessions deleted per transaction: big enough to be quick, small enough not to hold the writer long. */
const BATCH = 500;

export const retentionFor = (config: CollectorConfig, product: string): RetentionLimitsConfig => ({
  maxAgeDays: config.retention.maxAgeDays,
  maxBytes: config.retention.maxBytes,
  ...config.products[product]?.retention,
});

export interface RetentionResult {
  product: string;
  byAge: number;
  byBytes: number;
  packages: number;
}

export const runRetention = async (d: {
  config: CollectorConfig;
  store: Store;
  now: () => number;
  log: Logger;
  messages?: MessageReader;
}): Promise<RetentionResult[]> => {
  const out: RetentionResult[] = [];
  await d.store.flushBlobDeletions();
  const products = new Set([...(await d.store.storedProducts()), ...Object.keys(d.config.products)]);
  for (const product of [...products].sort()) {
    const limits = retentionFor(d.config, product);
    const r: RetentionResult = { product, byAge: 0, byBytes: 0, packages: 0 };
    const drain = async (lim: Parameters<Store['retentionCandidates']>[1]): Promise<number> => {
      let n = 0;
      for (;;) {
        const ids = await d.store.retentionCandidates(product, lim, BATCH);
        if (ids.length === 0) return n;
        const gone = await d.store.deleteSessions(ids);
        for (const sha of gone.blobs) d.messages?.forget(sha);
        n += gone.ids.length;
        // Candidates that vanished meanwhile (deleted by another replica) end the loop rather than spin.
        if (gone.ids.length === 0) return n;
      }
    };
    if (limits.maxAgeDays > 0) {
      const before = d.now() - limits.maxAgeDays * DAY;
      r.byAge = await drain({ receivedBefore: before });
      r.packages = await d.store.deleteOldPackages(product, before);
    }
    if (limits.maxBytes > 0) r.byBytes = await drain({ maxBytes: limits.maxBytes });
    if (r.byAge + r.byBytes + r.packages > 0) d.log.info('retention deleted old data', { ...r });
    out.push(r);
  }
  return out;
};
