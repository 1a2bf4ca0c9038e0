import type { DetailPolicy } from '../shared/protocol.js';
import type { RateLimitConfig } from './config.js';

/** An ingest key resolved from the config, with everything a request needs to know about it. */
export interface IngestKey {
  key: string;
  product: string;
  policy: DetailPolicy;
  origins: readonly string[];
  rateLimit: RateLimitConfig;
}

/** Hono variables set by the middleware. */
export interface AppEnv {
  Variables: {
    ingest: IngestKey;
    /** Bytes the handler inflated (charged to the client's work bucket). */
    inflatedBytes?: number;
  };
}
