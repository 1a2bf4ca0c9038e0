/**
 * The page ⇄ worker protocol: the one interface `ferry-worker.js` exposes with comlink (and the
 * types it passes). The page wraps it (src/agent/workerClient.ts); a service worker can reach the
 * same API through a MessagePort (`{ type: 'ferry-connect' }` with the port).
 */
import type { LogMessage } from './message.js';
import type { BuiltPackageManifest, PackageCreator, PackageCriterion, PackageProblem } from './package-format.js';
import type { SeverityCounts } from './severity.js';
import type { SessionStatus, SessionSummary } from './summary.js';

/** fflate's compression levels Ferry uses. */
export type FflateLevel = 1 | 6 | 9;

/** Which compressor runs: native `CompressionStream`, or fflate at a level. */
export type CompressionEngine = { kind: 'native' } | { kind: 'fflate'; level: FflateLevel };

/** Packaging progress, reported at most every 100 ms. */
export interface BuildProgress {
  sessionsDone: number;
  sessionsTotal: number;
  /** NDJSON bytes read and compressed so far. */
  bytesDone: number;
  /** Stored size of the chosen sessions (an estimate: UTF-16 units as stored). */
  bytesTotal: number;
  /** Package bytes written so far. */
  packageBytes: number;
}

export interface SelectionQuery {
  product: string;
  /** Only this application's sessions; absent means all applications of the product. */
  application?: string;
  criteria: PackageCriterion[];
  /** The current session, matched by `active`. */
  activeSessionId?: string;
}

/** A session that lives only in page memory (IndexedDB unavailable), as NDJSON. */
export interface InlineSession {
  summary: SessionSummary;
  text: string;
}

export interface PackageJob extends SelectionQuery {
  /** Names the job for `cancel`. */
  jobId: string;
  /** Sessions chosen by an earlier `selectSessions`; chosen now when absent. */
  sessionIds?: string[];
  created: number;
  creator: PackageCreator;
  description?: string;
  replyTo?: string;
  inline?: InlineSession[];
  /** The page has no IndexedDB: package only `inline`. */
  memoryOnly?: boolean;
  /** Default: native where available, else fflate at FALLBACK_LEVEL. */
  engine?: CompressionEngine;
}

export interface PackageJobResult {
  blob: Blob;
  manifest: BuiltPackageManifest;
  /** Summaries of the sessions in the package, oldest first. */
  sessions: SessionSummary[];
  /** Chunks left out (also in the manifest). */
  problems: PackageProblem[];
  /** NDJSON bytes packaged. */
  rawBytes: number;
  /** Matching sessions left out because a package holds at most PACKAGE_LIMITS.maxSessions (the oldest go). */
  skipped: number;
  engine: CompressionEngine;
}

export interface CompressedSession {
  sessionId: string;
  /** The gzip blob also stored in the outbox. */
  blob: Blob;
  size: number;
  sha256: string;
  rawBytes: number;
  lastSeq: number;
  problems: PackageProblem[];
  engine: CompressionEngine;
}

export interface ReadOptions {
  /** Sessions whose messages to return (all are read and checked either way). */
  messagesOf?: string[];
  /** At most this many messages per returned session. @defaultValue 10000 */
  maxMessages?: number;
  engine?: CompressionEngine;
}

export interface PackageSessionStats {
  id: string;
  messageCount: number;
  counts: SeverityCounts;
  firstSeq: number;
  lastSeq: number;
  /** NDJSON bytes of the entry. */
  bytes: number;
  compressedBytes: number;
}

export interface PackageContents {
  manifest: BuiltPackageManifest;
  sessions: PackageSessionStats[];
  messages: Record<string, LogMessage[]>;
}

export interface FerryWorkerApi {
  /** Answers once the worker runs: the engine it would use by default. */
  ping(): CompressionEngine;
  selectSessions(query: SelectionQuery): Promise<SessionSummary[]>;
  /** Builds a package; `onProgress` (a comlink proxy) is called at most every 100 ms. */
  buildPackage(job: PackageJob, onProgress?: (p: BuildProgress) => void): Promise<PackageJobResult>;
  /** Stops a running `buildPackage`, which then rejects with an AbortError. */
  cancel(jobId: string): void;
  /**
   * Records that these sessions were packaged, up to the lastSeq each had in the package (with
   * `sent`, also as summarised and sent, and drops their outbox entry); returns the ids marked.
   */
  markPackaged(product: string, sessions: { id: string; lastSeq: number; status: SessionStatus }[], at: number, sent?: boolean): Promise<string[]>;
  /** Gzips a stored session into the outbox (DESIGN.md §2 step 3). */
  compressSession(product: string, sessionId: string, engine?: CompressionEngine): Promise<CompressedSession>;
  /** Opens and checks a whole package; rejects with a PackageReadError naming what is wrong. */
  readPackage(blob: Blob, options?: ReadOptions): Promise<PackageContents>;
  /**
   * A `blob:` URL for `blob`, revoked after `lifetimeMs`. Minted here because
   * `URL.createObjectURL` is a synchronous call to the browser process: on the main thread it
   * took 13–50 ms for a 4 MB package, a long task by itself. (Dedicated workers only.)
   */
  objectUrl(blob: Blob, lifetimeMs: number): string;
}
