// The IndexedDB schema of DESIGN.md §3, shared by the page agent, the worker and the
// service worker (all three open the same `ferry:<product>` database).
import type { DBSchema } from 'idb';
import type { SeverityCounts } from '../../shared/severity.js';
import type { SessionSummary } from '../../shared/summary.js';

export type DetailState = 'none' | 'wanted' | 'not-wanted' | 'queued' | 'sent';

export interface SessionRecord extends SessionSummary {
  /** Last time the session wrote (a batch or a heartbeat): the end time of a crashed session. */
  heartbeatAt: number;
  summarySentAt?: number;
  detailState: DetailState;
  sentAt?: number;
  packagedAt?: number;
  /** Why the server refused this session (a 4xx other than 408/429); it is not retried. */
  parked?: string;
  /** With `force`, the summary always asks for detail (packager "send to server", send on exit). */
  forceSend?: boolean;
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

export interface FerryDB extends DBSchema {
  sessions: {
    key: string;
    value: SessionRecord;
    indexes: { 'by-app': string; 'by-status': string; 'by-detailState': string; 'by-start': number };
  };
  chunks: { key: [string, number]; value: ChunkRecord };
  outbox: { key: string; value: OutboxRecord };
  meta: { key: string; value: unknown };
}

export const DB_VERSION = 1;
export const dbName = (product: string): string => `ferry:${product}`;
