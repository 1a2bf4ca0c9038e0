import type { MiddlewareHandler } from 'hono';
import type { RateLimitConfig } from '../config.js';
import type { AppEnv } from '../env.js';
import { ApiError } from '../errors.js';

export interface RateLimiter {
  /** Takes one token; returns 0 when allowed, else the ms until a token is available. */
  take(id: string, cfg: RateLimitConfig): number;
}

/** Token buckets per ingest key, in memory (each replica limits on its own). */
export const createRateLimiter = (now: () => number = Date.now): RateLimiter => {
  const buckets = new Map<string, { tokens: number; at: number }>();
  return {
    take(id, cfg) {
      const t = now();
      const perMs = cfg.perMinute / 60_000;
      const b = buckets.get(id) ?? { tokens: cfg.burst, at: t };
      b.tokens = Math.min(cfg.burst, b.tokens + Math.max(0, t - b.at) * perMs);
      b.at = t;
      buckets.set(id, b);
      if (b.tokens >= 1) {
        b.tokens -= 1;
        return 0;
      }
      return Math.ceil((1 - b.tokens) / perMs);
    },
  };
};

export const rateLimit =
  (limiter: RateLimiter): MiddlewareHandler<AppEnv> =>
  async (c, next) => {
    const key = c.get('ingest');
    const wait = limiter.take(key.key, key.rateLimit);
    if (wait > 0) {
      const seconds = Math.max(1, Math.ceil(wait / 1000));
      throw new ApiError(429, 'too-many-requests', `rate limit of ${key.rateLimit.perMinute}/min for this ingest key; retry in ${seconds} s`, {
        'Retry-After': String(seconds),
      });
    }
    await next();
  };
