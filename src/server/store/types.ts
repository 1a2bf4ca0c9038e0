import type {
  CountsReply,
  GroupListReply,
  GroupReply,
  PackageRecord,
  PackageReply,
  SearchReply,
  SessionListReply,
  StoredSession,
  SummaryExtra,
} from '../../shared/protocol.js';
import type { Severity, SeverityCounts } from '../../shared/severity.js';
import type { SessionStatus, SessionSummary } from '../../shared/summary.js';
import type { SessionIndex } from '../triage/session-index.js';
import type { BlobSource, BlobStore } from './blobs.js';

export type { BlobSource };

/** A summary as received, with the server-side times the collector derived for it. */
export interface SummaryInput {
  summary: SessionSummary;
  /** Its fields the collector does not know (already bounded by validation), kept beside it. */
  extra?: SummaryExtra;
  /** Server-clock start/end (agent times + clockOffsetMs). */
  startedAt: number;
  endedAt?: number;
  clockOffsetMs: number;
  receivedAt: number;
  sentAt?: number;
}

/** What the summaries endpoint needs to decide and reply. */
export interface SessionState {
  id: string;
  hasDetail: boolean;
  /** Last seq of the stored detail, when known: a summary past it may bring newer detail. */
  detailLastSeq?: number;
}

export type UploadState = 'open' | 'completed' | 'expired';

export interface UploadRecord {
  /** The tus upload id (last segment of its URL). */
  id: string;
  sessionId: string;
  product: string;
  /** Declared `Upload-Length`. */
  length: number;
  /** Hex SHA-256 the blob must have. */
  sha256: string;
  createdAt: number;
  expiresAt: number;
  state: UploadState;
  completedAt?: number;
}

export interface DetailInput {
  sessionId: string;
  /** Hex SHA-256 of the gzip blob (its key in the blob store). */
  sha256: string;
  compressedBytes: number;
  bytes: number;
  messageCount: number;
  counts: SeverityCounts;
  /** Seq of the detail's last message: a detail replaces a stored one only when this is higher. */
  lastSeq: number;
  receivedAt: number;
}

export interface PackageSessionInput {
  session: SummaryInput;
  detail: DetailInput;
  blob: BlobSource;
}

/** Filters of the session list and of the counts over time. */
export interface SessionFilter {
  product?: string;
  application?: string;
  version?: string;
  environment?: string;
  /** The user id (`summary.user.id`). */
  user?: string;
  installation?: string;
  /** Context tags that must all match, each `[key, value as text]` (shared/context.ts contextText). */
  context?: readonly (readonly [string, string])[];
}

export interface SessionQuery extends SessionFilter {
  status?: SessionStatus;
  minSeverity?: Severity;
  /** Server-clock start time range, inclusive from, exclusive to. */
  from?: number;
  to?: number;
  hasDetail?: boolean;
  limit: number;
  cursor?: string;
}

export interface CountsQuery extends SessionFilter {
  from: number;
  to: number;
  bucketMs: number;
}

/**
 * The one storage interface behind the collector. Two implementations: the embedded default
 * (SQLite + blob files) and the production store (PostgreSQL + blob files), both run against
 * the same contract tests (tests/unit/server/store-contract.test.ts).
 *
 * Durability: every method that the collector acknowledges to a client resolves only after the
 * data is on disk (blob files fsynced, then the database transaction committed).
 */
export interface Store extends TriageStore {
  readonly kind: 'sqlite' | 'postgres';
  readonly blobs: BlobStore;
  /**
   * Upserts summaries (idempotent by id). A session that already has detail keeps its summary
   * unless the new one goes past that detail (a higher lastSeq) or ends a session stored running.
   */
  saveSummaries(items: readonly SummaryInput[]): Promise<SessionState[]>;
  getSession(id: string): Promise<StoredSession | undefined>;
  createUpload(u: UploadRecord): Promise<void>;
  getUpload(id: string): Promise<UploadRecord | undefined>;
  /** The newest open upload of each given session that has one. */
  openUploads(sessionIds: readonly string[]): Promise<Map<string, UploadRecord>>;
  /**
   * Stores a session's detail: blob first (fsync), then one transaction recording it and, when
   * given, completing the upload. 'replaced' when it took the place of an older (shorter) detail
   * of the session, 'existing' when the stored detail was as new or newer (kept as is).
   * Throws when the session has no summary.
   */
  storeDetail(detail: DetailInput, blob: BlobSource, uploadId?: string): Promise<'new' | 'replaced' | 'existing'>;
  /**
   * Stores every session of a package (blobs, then one transaction), idempotent by session id;
   * a session's stored detail is replaced only by a newer one, as in storeDetail.
   */
  storePackage(pkg: PackageRecord, sessions: readonly PackageSessionInput[]): Promise<PackageReply['sessions']>;
  /** Marks an upload expired at once (its content was invalid or could not be stored). */
  discardUpload(id: string, at: number): Promise<void>;
  /** Marks open uploads past their expiry as expired and returns them (their files can go). */
  expireUploads(now: number): Promise<UploadRecord[]>;
  /** Forgets expired and completed upload records older than `before`. */
  purgeUploads(before: number): Promise<number>;
  /** A product's stored bytes as retention counts them (detail blobs compressed + summary JSON), for its quota. */
  productStoredBytes(product: string): Promise<number>;
  /** The declared lengths of a product's open uploads not expired at `now`, for its quota. */
  productUploadBytes(product: string, now: number): Promise<number>;
  listSessions(q: SessionQuery): Promise<SessionListReply>;
  countsOverTime(q: CountsQuery): Promise<CountsReply>;
  listPackages(limit: number): Promise<PackageRecord[]>;
  /** Throws when the database cannot answer. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export interface GroupQuery extends SessionFilter {
  /** 'hits' (most messages first), 'sessions', or 'recent' (last seen first). */
  sort: 'hits' | 'sessions' | 'recent';
  /** Only groups seen at or after this time (server clock). */
  seenSince?: number;
  limit: number;
  offset: number;
  /** The sparkline's range: `sparkBuckets` buckets of `sparkBucketMs` ending at `now`. */
  now: number;
  sparkBuckets: number;
  sparkBucketMs: number;
}

export interface SearchQuery extends SessionFilter {
  /** Terms (search-terms.ts queryTerms), each matched as a word prefix; all must match. */
  terms: readonly string[];
  minSeverity?: Severity;
  /** Message time range (server clock), inclusive from, exclusive to. */
  from?: number;
  to?: number;
  limit: number;
  cursor?: string;
}

/** Which sessions a deletion request names: every session of a user or of an installation. */
export interface SessionSelector {
  product?: string;
  user?: string;
  installation?: string;
}

/** How much of a product to keep; undefined means no limit of that kind. */
export interface RetentionLimits {
  /** Sessions last received before this time (server clock) go. */
  receivedBefore?: number;
  /** The newest sessions whose bytes add up to at most this are kept; older ones go. */
  maxBytes?: number;
}

/**
 * Triage and data lifecycle: exception groups and search built at ingest (triage/indexer.ts),
 * deletion and retention. Deletion is complete: session row, context tags, group shares (the
 * groups' counts are recomputed and an emptied group goes), search entries, finished upload
 * records, package records left without sessions, and the detail blob, which is recorded in
 * `blob_deletions` inside the same transaction so a crash before the file is removed is finished
 * by `flushBlobDeletions` at the next start-up.
 */
export interface TriageStore {
  /**
   * Replaces a session's groups and search entries with `index`, only while `index.sha256` is
   * still the session's stored detail (false otherwise: a newer detail will be indexed instead).
   */
  indexSession(index: SessionIndex): Promise<boolean>;
  /** Sessions whose stored detail is not (yet) indexed, oldest first. */
  sessionsToIndex(limit: number): Promise<{ id: string; product: string; sha256: string; clockOffsetMs: number }[]>;
  listGroups(q: GroupQuery): Promise<GroupListReply>;
  getGroup(id: string, o: { limit: number; from: number; to: number; bucketMs: number; now: number }): Promise<GroupReply | undefined>;
  searchMessages(q: SearchQuery): Promise<SearchReply>;
  /** Ids of the sessions a deletion request names (at most `limit`). */
  selectSessions(sel: SessionSelector, limit: number): Promise<string[]>;
  /** Ids of a product's sessions past its retention limits (at most `limit`, oldest first). */
  retentionCandidates(product: string, limits: RetentionLimits, limit: number): Promise<string[]>;
  /** Deletes package records received before `before` (their sessions go by their own retention). */
  deleteOldPackages(product: string, before: number): Promise<number>;
  /** Products that have stored sessions or packages. */
  storedProducts(): Promise<string[]>;
  /** Deletes sessions and everything derived from them; returns the ids deleted and their blobs' hashes. */
  deleteSessions(ids: readonly string[]): Promise<{ ids: string[]; blobs: string[] }>;
  /** Removes the blob files of deleted sessions that a crash left behind. */
  flushBlobDeletions(): Promise<number>;
}

export class StoreError extends Error {
  override name = 'StoreError';
}
