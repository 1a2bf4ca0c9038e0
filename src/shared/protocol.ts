/**
 * The agent ⇄ collector protocol (DESIGN.md §4): one definition used by the page agent,
 * the service worker and the server.
 */

import type { LogMessage } from './message.js';
import type { PackageCreator, PackageProblem } from './package-format.js';
import type { Severity, SeverityCounts } from './severity.js';
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

/** The Authorization header value of an agent request. */
export const ingestAuthorization = (ingestKey: string): string => `${AUTH_SCHEME} ${ingestKey}`;

export const LIMITS = {
  maxSummariesPerRequest: 1000,
  /** Bytes of a `POST /sessions/summaries` body; the agent splits its batches to stay under it. */
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
  /**
   * An upload the server already has for this session, to resume from `offset`; only for the
   * blob whose SHA-256 it names (an agent that has since made a newer blob starts a new upload).
   */
  upload?: { url: string; offset: number; sha256: string };
}

export interface SummariesReply {
  sessions: SummaryDecision[];
}

/** Body of every error reply: a short code and a sentence naming the bad field or limit. */
export interface ErrorBody {
  error: string;
  detail: string;
  /**
   * The field an `invalid-field` refusal is about, as a path (`sessions[3].version`), so an agent
   * can set aside the one summary at fault and send the others again.
   */
  field?: string;
}

/**
 * On every reply to an ingest request: the collector's version. A session parked because the
 * collector refused it is tried again once a newer collector answers.
 */
export const COLLECTOR_VERSION_HEADER = 'Ferry-Collector-Version';

/** Fields of a summary the collector did not know when it received it, kept by their path within the summary. */
export type SummaryExtra = Record<string, unknown>;

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

// ---------------------------------------------------------------------------------------------
// Collector additions (issue 3). Everything below is used by the collector, its viewer and the
// agent's error handling; nothing above this line changed.

/** Per-product server policy deciding which sessions' detail the collector asks for. */
export const DETAIL_POLICIES = ['all', 'error-or-worse', 'warning-or-worse', 'none'] as const;
export type DetailPolicy = (typeof DETAIL_POLICIES)[number];

/**
 * Short machine-readable codes in `ErrorBody.error`. 4xx other than 408/429 mean the request
 * itself is wrong: report it and do not retry it unchanged.
 */
export type ErrorCode =
  | 'bad-request'
  | 'malformed-json'
  | 'invalid-field'
  | 'unsupported-media-type'
  | 'unauthorized'
  | 'forbidden'
  | 'origin-not-allowed'
  | 'product-mismatch'
  | 'not-found'
  | 'gone'
  | 'offset-conflict'
  | 'too-large'
  | 'too-many-requests'
  | 'unknown-session'
  | 'detail-not-wanted'
  | 'sha256-mismatch'
  | 'bad-gzip'
  | 'bad-ndjson'
  | 'foreign-message'
  | 'bad-package'
  | 'email-not-configured'
  | 'email-failed'
  | 'shutting-down'
  /** 507: the product's disk quota on the collector is used up; retry later (Retry-After). */
  | 'quota-exceeded'
  /** 503: the collector is handling as many package bodies as it may (limits.concurrentPackages); retry after Retry-After. */
  | 'busy'
  | 'internal';

/** `Authorization: Bearer <adminToken>` on every read (viewer) request. Ingest keys never read. */
export const ADMIN_AUTH_SCHEME = 'Bearer';

/** Where the viewer's read API lives (admin token required); the viewer gets it from the collector, see ADMIN_PATHS. */
export const ADMIN_BASE = `${API_BASE}/admin`;

/** The viewer's read API. */
export const ADMIN_PATHS = {
  sessions: `${ADMIN_BASE}/sessions`,
  session: (id: string): string => `${ADMIN_BASE}/sessions/${encodeURIComponent(id)}`,
  messages: (id: string): string => `${ADMIN_BASE}/sessions/${encodeURIComponent(id)}/messages`,
  detail: (id: string): string => `${ADMIN_BASE}/sessions/${encodeURIComponent(id)}/detail`,
  counts: `${ADMIN_BASE}/counts`,
  packages: `${ADMIN_BASE}/packages`,
} as const;

/** Reply of `POST /packages`: every session of the package, stored now or already stored before. */
export interface PackageReply {
  /** Hex SHA-256 of the package file: posting the same file again changes nothing. */
  package: string;
  sessions: { id: string; stored: 'new' | 'existing' }[];
}

/** Reply of `POST /packages/email`. */
export interface EmailReply {
  sent: true;
  /** The SMTP message id. */
  messageId: string;
}

export interface StoredDetail {
  /** Hex SHA-256 of the stored gzip blob. */
  sha256: string;
  compressedBytes: number;
  /** Decompressed NDJSON bytes. */
  bytes: number;
  messageCount: number;
  counts: SeverityCounts;
  /** Seq of the detail's last message (absent for detail stored before it was recorded). */
  lastSeq?: number;
  receivedAt: number;
}

/** A session as the collector keeps it. */
export interface StoredSession {
  /** The summary exactly as the agent last sent it (agent clock), with the fields this collector knows. */
  summary: SessionSummary;
  /** The summary's fields this collector does not know (a newer agent's), kept within bounds (`EXTRA_LIMITS`). */
  extra?: SummaryExtra;
  /** Start and end on the server clock: agent times plus `clockOffsetMs`. */
  startedAt: number;
  endedAt?: number;
  /** Added to agent times to correct a skewed agent clock; 0 when the skew was small. */
  clockOffsetMs: number;
  /** Most severe level with messages, from the summary's counts. */
  worst?: Severity;
  /** Server time the summary (or package) was last received. */
  receivedAt: number;
  /** Agent clock at send time, when the agent said. */
  sentAt?: number;
  source: 'agent' | 'package';
  /** The package it arrived in, for sessions that came in a package. */
  packageId?: string;
  /** Present once the messages are stored. */
  detail?: StoredDetail;
}

export interface SessionListReply {
  sessions: StoredSession[];
  /** Pass as `cursor` for the next (older) page; absent on the last page. */
  next?: string;
}

/** A message with its time on the server clock (`time + clockOffsetMs`). */
export type ViewedMessage = LogMessage & { correctedTime: number };

export interface MessagesReply {
  sessionId: string;
  clockOffsetMs: number;
  /** Messages matching the filter, in all pages. */
  total: number;
  messages: ViewedMessage[];
  /** Pass as `afterSeq` for the next page; absent on the last page. */
  next?: number;
}

export interface CountsBucket {
  /** Bucket start, epoch ms, server clock. */
  start: number;
  sessions: number;
  crashed: number;
  /** Messages per severity in the sessions that started in this bucket. */
  counts: SeverityCounts;
}

export interface CountsReply {
  bucketMs: number;
  from: number;
  to: number;
  buckets: CountsBucket[];
}

export interface PackageRecord {
  id: string;
  product: string;
  receivedAt: number;
  created: number;
  creator: PackageCreator;
  criteria: string[];
  description?: string;
  replyTo?: string;
  sessionIds: string[];
  /** Chunks the packager had to leave out (manifest `problems`), at most PROBLEM_LIMITS.maxStored. */
  problems?: PackageProblem[];
  /** How many more problems the manifest listed beyond those kept. */
  problemsOmitted?: number;
}

export interface PackageListReply {
  /** Each with the compressed bytes and count of its sessions still stored (retention and deletion remove some). */
  packages: (PackageRecord & { storedBytes?: number; storedSessions?: number })[];
}

// Triage and data lifecycle (issue 11): exception groups, search across sessions, deletion.

/** Read API paths added for triage and deletion (same auth as ADMIN_PATHS). */
export const TRIAGE_PATHS = {
  groups: `${ADMIN_BASE}/groups`,
  group: (id: string): string => `${ADMIN_BASE}/groups/${encodeURIComponent(id)}`,
  search: `${ADMIN_BASE}/search`,
  /** `DELETE` with `?user=` or `?installation=` (and optionally `product=`). */
  sessions: `${ADMIN_BASE}/sessions`,
  retention: `${ADMIN_BASE}/retention`,
} as const;

/** One exception group: the same fault (exception name, normalised message, top frames) across sessions. */
export interface ExceptionGroup {
  /** 32 hex digits. */
  id: string;
  product: string;
  /** Exception name, or the category of an error message without an exception. */
  name: string;
  /** The message with ids, numbers, URLs and quoted values replaced by placeholders. */
  title: string;
  worst: Severity;
  /** Messages in the group, over all stored sessions. */
  hits: number;
  sessions: number;
  /** Distinct users (`summary.user.id`) among those sessions. */
  users: number;
  firstSeen: number;
  lastSeen: number;
  example: { sessionId: string; seq: number; text: string; stack?: string };
  applications: string[];
  versions: string[];
  environments: string[];
  /** Hits per bucket (`sparkFrom`, `sparkBucketMs` in the reply), by the time each session first hit the group. */
  spark: number[];
}

export interface GroupListReply {
  groups: ExceptionGroup[];
  sparkFrom: number;
  sparkBucketMs: number;
  /** Pass as `offset` for the next page; absent on the last page. */
  next?: number;
}

export interface GroupSession {
  session: StoredSession;
  hits: number;
  firstSeen: number;
  lastSeen: number;
  /** Seq of the session's first message in the group (links to it). */
  firstSeq: number;
}

export interface GroupReply {
  group: ExceptionGroup;
  /** Sessions that hit the group, most recent first (at most `limit`). */
  sessions: GroupSession[];
  counts: { from: number; bucketMs: number; hits: number[]; sessions: number[] };
}

export interface SearchHit {
  sessionId: string;
  seq: number;
  /** Server-clock time of the message. */
  time: number;
  severity: Severity;
  category: string;
  /** The start of the message (with its exception), for the list; the whole message is in the session. */
  text: string;
  product: string;
  application: string;
  version: string;
}

export interface SearchReply {
  hits: SearchHit[];
  /** Pass as `cursor` for the next page; absent on the last page. */
  next?: string;
}

export interface DeleteReply {
  /** Sessions removed with their messages, blobs, groups' share and search entries. */
  deleted: number;
  sessionIds: string[];
}

export interface RetentionReply {
  products: { product: string; byAge: number; byBytes: number; packages: number }[];
}
