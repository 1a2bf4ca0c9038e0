import type { CountsReply, PackageRecord, PackageReply, SessionListReply, StoredSession, SummaryExtra } from '../../shared/protocol.js';
import type { Severity, SeverityCounts } from '../../shared/severity.js';
import type { SessionStatus, SessionSummary } from '../../shared/summary.js';
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
export interface Store {
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
  listSessions(q: SessionQuery): Promise<SessionListReply>;
  countsOverTime(q: CountsQuery): Promise<CountsReply>;
  listPackages(limit: number): Promise<PackageRecord[]>;
  /** Throws when the database cannot answer. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export class StoreError extends Error {
  override name = 'StoreError';
}
