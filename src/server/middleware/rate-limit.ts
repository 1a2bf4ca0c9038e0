/**
 * Rate limits as token buckets kept in a RateStore: in memory for one collector, in PostgreSQL
 * when replicas share a database (store/pg-rate-store.ts), so a client gets the same limit
 * whichever replica answers.
 *
 * Ingest keys are public, so a key's limit is shared fairly: each client (ingest key + client
 * address) has its own request bucket and its own work bucket (bytes received plus bytes
 * inflated), under a ceiling for the whole key. Work is charged after the request, when it is
 * known, and may leave the bucket in debt: the next request waits until the debt is repaid.
 */
import { createHash } from 'node:crypto';
import type { Context, MiddlewareHandler } from 'hono';
import { clientAddress } from '../client-address.js';
import type { RateLimitConfig } from '../config.js';
import type { AppEnv } from '../env.js';
import { ApiError } from '../errors.js';

/** One bucket operation: granted when the bucket holds at least `need`, which then takes `cost`. */
export interface BucketTake {
  id: string;
  perMinute: number;
  burst: number;
  need: number;
  cost: number;
}

export interface RateStore {
  /** Applies each operation; returns, per operation, 0 when granted, else the ms until it would be. */
  take(ops: readonly BucketTake[], now: number): Promise<number[]>;
  /** Forgets buckets that have refilled (they read as full anyway). */
  sweep(now: number): Promise<number>;
}

/** Always granted, whatever the bucket holds (work charged after the fact). */
export const ALWAYS = -1e300;

interface Bucket {
  tokens: number;
  at: number;
  fullAt: number;
}

const refill = (b: Bucket | undefined, op: BucketTake, now: number): number =>
  b ? Math.min(op.burst, b.tokens + Math.max(0, now - b.at) * (op.perMinute / 60_000)) : op.burst;

const waitFor = (tokens: number, op: BucketTake): number => Math.max(1, Math.ceil((op.need - tokens) / (op.perMinute / 60_000)));

/** Buckets in this process's memory (one collector, or tests). */
export const createMemoryRateStore = (): RateStore => {
  const buckets = new Map<string, Bucket>();
  return {
    async take(ops, now) {
      return ops.map((op) => {
        const tokens = refill(buckets.get(op.id), op, now);
        const granted = tokens >= op.need;
        const left = granted ? tokens - op.cost : tokens;
        buckets.set(op.id, { tokens: left, at: now, fullAt: now + Math.max(0, op.burst - left) / (op.perMinute / 60_000) });
        return granted ? 0 : waitFor(tokens, op);
      });
    },
    async sweep(now) {
      let n = 0;
      for (const [id, b] of buckets)
        if (b.fullAt <= now) {
          buckets.delete(id);
          n++;
        }
      return n;
    },
  };
};

/** Bucket ids carry no key or address in clear (the PostgreSQL table is readable by operators). */
const bucketId = (kind: string, ...parts: string[]): string => `${kind}:${createHash('sha256').update(parts.join('\0')).digest('base64url').slice(0, 22)}`;

/** Why a request was refused (the `reason` label of the rejected-requests metric). */
export type RateReason = 'rate-client' | 'rate-key' | 'rate-work' | 'admin-failures';

const refuse = (reason: RateReason, waitMs: number, detail: string): ApiError => {
  const seconds = Math.max(1, Math.ceil(waitMs / 1000));
  return new ApiError(429, 'too-many-requests', `${detail}; retry in ${seconds} s`, { 'Retry-After': String(seconds), 'X-Ferry-Limit': reason });
};

export interface RateLimitOptions {
  store: RateStore;
  now: () => number;
  trustProxy: boolean;
  onError?: (e: unknown) => void;
}

/** Bytes inflated by the request's handler (detail and package entries), added to its work. */
export const addWork = (c: Context<AppEnv>, bytes: number): void => {
  c.set('inflatedBytes', (c.get('inflatedBytes') ?? 0) + bytes);
};

const ops = (cfg: RateLimitConfig, key: string, addr: string): { client: BucketTake; ceiling: BucketTake; work: BucketTake } => ({
  client: { id: bucketId('c', key, addr), perMinute: cfg.perMinute, burst: cfg.burst, need: 1, cost: 1 },
  ceiling: { id: bucketId('k', key), perMinute: cfg.keyPerMinute, burst: cfg.keyBurst, need: 1, cost: 1 },
  // Any credit left lets a request in; its cost is charged when it is known.
  work: { id: bucketId('w', key, addr), perMinute: cfg.bytesPerMinute, burst: cfg.bytesBurst, need: 1, cost: 0 },
});

export const rateLimit =
  (o: RateLimitOptions): MiddlewareHandler<AppEnv> =>
  async (c, next) => {
    const key = c.get('ingest');
    const cfg = key.rateLimit;
    const b = ops(cfg, key.key, clientAddress(c, o.trustProxy));
    const [client, ceiling, work] = await o.store.take([b.client, b.ceiling, b.work], o.now());
    if (client) throw refuse('rate-client', client, `rate limit of ${cfg.perMinute}/min per client for this ingest key`);
    if (ceiling) throw refuse('rate-key', ceiling, `this ingest key's total of ${cfg.keyPerMinute}/min is reached`);
    if (work) throw refuse('rate-work', work, `this client sent more than ${cfg.bytesPerMinute} bytes/min of data`);
    try {
      await next();
    } finally {
      const bytes = (Number(c.req.header('content-length')) || 0) + (c.get('inflatedBytes') ?? 0);
      if (bytes > 0) {
        // Not awaited: the reply does not wait for the bookkeeping.
        o.store.take([{ ...b.work, need: ALWAYS, cost: bytes }], o.now()).catch((e: unknown) => o.onError?.(e));
      }
    }
  };

export interface AdminGuard {
  /** Throws 429 while the address has used up its failed attempts. */
  check(c: Context): Promise<void>;
  /** Counts one failed attempt from the address. */
  failed(c: Context): Promise<void>;
}

/** Failed admin-token attempts per client address (guessing tokens is slowed to this rate). */
export const adminGuard = (o: RateLimitOptions & { perMinute: number; burst: number }): AdminGuard => {
  const op = (c: Context, need: number, cost: number): BucketTake => ({
    id: bucketId('a', clientAddress(c, o.trustProxy)),
    perMinute: o.perMinute,
    burst: o.burst,
    need,
    cost,
  });
  return {
    async check(c) {
      const [wait] = await o.store.take([op(c, 1, 0)], o.now());
      if (wait) throw refuse('admin-failures', wait, 'too many failed admin-token attempts from this address');
    },
    async failed(c) {
      await o.store.take([op(c, ALWAYS, 1)], o.now());
    },
  };
};
