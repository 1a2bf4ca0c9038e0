/**
 * The agent ⇄ collector protocol (DESIGN.md §4): one definition used by the page agent,
 * the service worker and the server.
 */
import type { SessionSummary } from './summary.js';

export const API_BASE = '/api/v1';
export const PATHS = {
  summaries: `${API_BASE}/sessions/summaries`,
  uploads: `${API_BASE}/uploads`,
  packages: `${API_BASE}/packages`,
  packagesEmail: `${API_BASE}/packages/email`,
  health: '/health',
} as const;

/** `Authorization: Ferry <ingestKey>` on every agent request. */
export const AUTH_SCHEME = 'Ferry';

export const LIMITS = {
  maxSummariesPerRequest: 1000,
  maxSummariesBodyBytes: 1024 * 1024,
  /** Default tus PATCH size. */
  uploadChunkBytes: 256 * 1024,
} as const;

export interface SummariesRequest {
  product: string;
  /** Agent clock at send time, so the server can correct skewed session times. */
  sentAt: number;
  sessions: SessionSummary[];
}

export type DetailDecision = 'wanted' | 'not-wanted';

export interface SummaryDecision {
  id: string;
  detail: DetailDecision;
  /** An upload the server already has for this session, to resume from `offset`. */
  upload?: { url: string; offset: number };
}

export interface SummariesReply {
  sessions: SummaryDecision[];
}

/** Body of every error reply: a short code and a sentence naming the bad field or limit. */
export interface ErrorBody {
  error: string;
  detail: string;
}

/** tus 1.0.0 constants and the metadata keys Ferry puts in `Upload-Metadata`. */
export const TUS = {
  version: '1.0.0',
  contentType: 'application/offset+octet-stream',
  metadata: {
    sessionId: 'sessionId',
    product: 'product',
    /** Hex SHA-256 of the whole gzip blob. */
    sha256: 'sha256',
  },
} as const;

/** Parse a `Retry-After` value (seconds or HTTP date) into a delay in ms, capped. */
export const parseRetryAfter = (value: string | null, now: number, capMs: number): number | undefined => {
  if (value === null || value.trim() === '') return undefined;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Math.min(Number(v) * 1000, capMs);
  const at = Date.parse(v);
  if (Number.isNaN(at)) return undefined;
  return Math.min(Math.max(0, at - now), capMs);
};
