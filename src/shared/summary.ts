import type { SessionContext, SessionUser } from './context.js';
import type { SeverityCounts } from './severity.js';

export type SessionStatus = 'running' | 'ended' | 'crashed';

/** Where the agent could keep the session: IndexedDB, or only a bounded memory buffer. */
export type Persistence = 'indexeddb' | 'memory';

/** Messages the agent had to drop, so the collector can show exactly what was lost. */
export interface LossAccounting {
  /** Dropped by the app's `beforeLog` hook returning null. */
  beforeLog: number;
  /** Dropped because the in-memory buffer was full (or IndexedDB refused a batch twice). */
  overflow: number;
  /** Messages of this session removed by storage-limit pruning before they were sent. */
  pruned: number;
  /** Other sessions (and their messages) pruned while this session ran. */
  prunedSessions: number;
  prunedMessages: number;
}

export const emptyLoss = (): LossAccounting => ({
  beforeLog: 0,
  overflow: 0,
  pruned: 0,
  prunedSessions: 0,
  prunedMessages: 0,
});

/** Set on the first session after the local database was found emptied (corruption, user clearing). */
export interface StorageReset {
  detectedAt: number;
  /** Sessions the previous database was known to hold when last seen. */
  sessionsBefore: number;
  /** Start time of the last session the previous database was known to hold. */
  lastSessionStartedAt?: number;
}

/** A session without its messages: small, always sent first (DESIGN.md §1, §4). */
export interface SessionSummary {
  /** Time-sortable UUIDv7. */
  id: string;
  product: string;
  application: string;
  version: string;
  status: SessionStatus;
  /** Epoch ms, agent clock. */
  startedAt: number;
  /** Epoch ms of the end (or, for a crashed session, of the last write). */
  endedAt?: number;
  counts: SeverityCounts;
  /** Messages stored (sum of counts). */
  messageCount: number;
  /** Highest sequence number stored. */
  lastSeq: number;
  /** Bytes of NDJSON stored for the session. */
  bytes: number;
  userAgent: string;
  /** The page's URL when the session started; without its query and fragment unless the `privacy` options keep them. */
  url: string;
  agentVersion: string;
  persistence: Persistence;
  dropped: LossAccounting;
  storageReset?: StorageReset;
  /** The `environment` option: where the app runs ("production", "staging"). */
  environment?: string;
  /** This browser profile's installation of the product: a random id made when its database was created (`meta.instance`); absent in memory mode. */
  installationId?: string;
  /** Who uses the app, as `setUser()` last said while the session ran. */
  user?: SessionUser;
  /** The app's context tags, as `setContext()` last left them while the session ran; absent when there are none. */
  context?: SessionContext;
  /** Always ask for detail (packager "send to server", send on exit). */
  force?: boolean;
}
