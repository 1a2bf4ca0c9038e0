import { createHash, timingSafeEqual } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import { ADMIN_AUTH_SCHEME, AUTH_SCHEME } from '../../shared/protocol.js';
import type { AppEnv, IngestKey } from '../env.js';
import { ApiError } from '../errors.js';
import type { AdminGuard } from './rate-limit.js';

const AUTH_RE = /^(\S+)[ \t]+(\S+)$/;

export const originAllowed = (allowed: readonly string[], origin: string, self: string): boolean =>
  allowed.some((a) => a === '*' || a === origin || (a === 'self' && origin === self));

export interface IngestAuthOptions {
  keys: ReadonlyMap<string, IngestKey>;
  selfOrigin: (req: Request) => string;
}

/** `Authorization: Ferry <ingestKey>`, then the key's allowed origins (when the request has one). */
export const ingestAuth =
  (o: IngestAuthOptions): MiddlewareHandler<AppEnv> =>
  async (c, next) => {
    const m = AUTH_RE.exec(c.req.header('authorization') ?? '');
    if (!m || m[1].toLowerCase() !== AUTH_SCHEME.toLowerCase())
      throw new ApiError(401, 'unauthorized', `Authorization: ${AUTH_SCHEME} <ingestKey> is required`, { 'WWW-Authenticate': AUTH_SCHEME });
    const key = o.keys.get(m[2]);
    if (!key) throw new ApiError(401, 'unauthorized', 'unknown ingest key', { 'WWW-Authenticate': AUTH_SCHEME });
    const origin = c.req.header('origin');
    if (origin !== undefined && !originAllowed(key.origins, origin, o.selfOrigin(c.req.raw)))
      throw new ApiError(403, 'origin-not-allowed', `origin ${origin.slice(0, 200)} may not use this ingest key`);
    c.set('ingest', key);
    await next();
  };

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

export interface AdminAuthOptions {
  tokens: readonly string[];
  isIngestKey: (token: string) => boolean;
  /** Limits failed attempts per client address. */
  guard?: AdminGuard;
}

/** `Authorization: Bearer <adminToken>`; an ingest key is recognised and refused with 403. */
export const adminAuth = (o: AdminAuthOptions): MiddlewareHandler => {
  const hashes = o.tokens.map(digest);
  return async (c, next) => {
    // Checked before the token: an address out of attempts learns nothing more, right or wrong.
    await o.guard?.check(c);
    const m = AUTH_RE.exec(c.req.header('authorization') ?? '');
    if (!m) throw new ApiError(401, 'unauthorized', `Authorization: ${ADMIN_AUTH_SCHEME} <adminToken> is required`, { 'WWW-Authenticate': ADMIN_AUTH_SCHEME });
    if (m[1].toLowerCase() === AUTH_SCHEME.toLowerCase() || o.isIngestKey(m[2]))
      throw new ApiError(403, 'forbidden', 'ingest keys cannot read; use an admin token');
    // Compare digests in constant time so response timing says nothing about a token's prefix.
    const d = digest(m[2]);
    const ok = m[1].toLowerCase() === ADMIN_AUTH_SCHEME.toLowerCase() && hashes.some((h) => timingSafeEqual(h, d));
    if (!ok) {
      await o.guard?.failed(c);
      throw new ApiError(401, 'unauthorized', 'unknown admin token', { 'WWW-Authenticate': ADMIN_AUTH_SCHEME });
    }
    await next();
  };
};
