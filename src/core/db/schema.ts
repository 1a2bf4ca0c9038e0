// The IndexedDB schema of the product database `ferry:<product>` (docs/architecture.md), opened
// by the page agent, its worker and the service worker alike through openProductDb(). Each store
// has one writer: `sessions` the tab recording the session, `delivery` and `outbox` the sending
// side (sender, packager, service worker), `chunks` the recording tab (the sender only deletes).
import type { SeverityCounts } from '../../shared/severity.js';
import type { SessionStatus, SessionSummary } from '../../shared/summary.js';

/** What the recording tab knows of its session. Crash detection may set `status`/`endedAt` once the tab is gone. */
export interface SessionRecord extends Omit<SessionSummary, 'force'> {
  /** Last time the session wrote (a batch or a heartbeat): the end time of a crashed session. */
  heartbeatAt: number;
  /**
   * Send this session with full detail once it has ended (`sendSessionsOnExit`): set by its own
   * tab, read by whichever sender finds it ended — the service worker, another tab, the next page load.
   */
  sendOnExit?: boolean;
}

/**
 * Where the server's decision stands: `wanted`/`not-wanted` as the summary reply said, `queued`
 * once a blob is in the outbox, `partial` when the server confirmed a blob shorter than the
 * session (sent while it ran), `sent` when it confirmed the whole session.
 */
export type DetailState = 'wanted' | 'not-wanted' | 'queued' | 'partial' | 'sent';

/** The names of every change made to a delivery row, so each write says who made it and why. */
export type DeliveryOp =
  | 'summary-reply'
  | 'summary-refused'
  | 'compressed'
  | 'upload-confirmed'
  | 'upload-refused'
  | 'packaged'
  | 'send-on-exit'
  | 'migrated'
  /** A session parked by another agent version is tried again (core/send/parked.ts). */
  | 'unpark-new-agent'
  /** A session refused by an older collector is tried again now that a newer one answers. */
  | 'unpark-new-collector'
  /** The app asked for every parked session to be tried again (`retryParked()`). */
  | 'unpark-requested';

/** What the sending side knows of a session. No row: never summarised, sent nor packaged. */
export interface DeliveryRecord {
  sessionId: string;
  /** When the server last answered a summary of this session. */
  summarySentAt?: number;
  /** The status and lastSeq that summary carried: a session that has ended or grown since is summarised again. */
  summaryStatus?: SessionStatus;
  summarySeq?: number;
  detailState?: DetailState;
  sentAt?: number;
  /** lastSeq of the detail the server confirmed. */
  sentSeq?: number;
  packagedAt?: number;
  /** lastSeq of the session when it was packaged (a running session goes on logging). */
  packagedSeq?: number;
  /**
   * Why the server refused this session (a 4xx other than 408/429, 401 and 403); it is not retried
   * until the agent or collector version changes, or the app calls `retryParked()`.
   */
  parked?: string;
  /** The HTTP status of that refusal; absent when the agent set the session aside itself. */
  parkedStatus?: number;
  /** The agent version that parked it. Absent on rows parked before versions were recorded. */
  parkedVersion?: string;
  /** The collector version that refused it, when the collector said (`Ferry-Collector-Version`). */
  parkedCollector?: string;
  /** The summary always asks for detail (packager "send to server", send on exit). */
  forceSend?: boolean;
  /** The last operation that wrote the row, and when. */
  lastOp: DeliveryOp;
  updatedAt: number;
}

/** One batch of messages: NDJSON text, as measured fastest to store (BROWSER-FACTS.md). */
export interface ChunkRecord {
  sessionId: string;
  /** First sequence number in the chunk (the key's second part). */
  seq: number;
  lastSeq: number;
  count: number;
  counts: SeverityCounts;
  /** UTF-16 length of `text`, used for storage accounting. */
  bytes: number;
  text: string;
}

export interface OutboxRecord {
  sessionId: string;
  blob: Blob;
  sha256: string;
  size: number;
  /** The session's lastSeq when the blob was made; a session that has grown since needs a new blob. */
  lastSeq?: number;
  createdAt: number;
  uploadUrl?: string;
  offset: number;
}

/** Each store's key and value types (and index names), which core/db/idb.ts types every call by. */
export interface FerryDB {
  sessions: {
    key: string;
    value: SessionRecord;
    indexes: { 'by-app': string; 'by-status': string };
  };
  delivery: { key: string; value: DeliveryRecord };
  chunks: { key: [string, number]; value: ChunkRecord };
  outbox: { key: string; value: OutboxRecord };
  meta: { key: string; value: unknown };
}

/** Version 2 moved what the sending side knows out of `sessions` into `delivery`. */
export const DB_VERSION = 2;
