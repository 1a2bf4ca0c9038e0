/**
 * Messages on the BroadcastChannel `ferry:<product>` between tabs and the service worker
 * (DESIGN.md §2): one discriminated union, the only definition of what crosses it.
 */

export type SenderPhase = 'idle' | 'summaries' | 'compressing' | 'uploading' | 'waiting' | 'offline' | 'paused' | 'no-consent' | 'off';

/** Why the sender is paused: the collector refused the ingest key (401), the origin (403), or the key's product. */
export type SenderPause = 'unauthorized' | 'forbidden' | 'product-mismatch';

/** Sender and outbox status, for the report dialog and the demo's status panel. */
export interface SenderState {
  /** Whether this context is the elected sender. */
  leader: boolean;
  phase: SenderPhase;
  /** Sessions eligible and not yet confirmed. */
  queued: number;
  /** Sessions the server refused (400/413…) and that wait for a new agent or collector version (or `retryParked()`), with the reason. */
  parked: { id: string; reason: string }[];
  /** Set while phase is `paused`: no request until `nextCheckAt` (15–30 min) or a `configure()` of the server options. */
  paused?: SenderPause;
  sent: number;
  failures: number;
  lastError?: string;
  /** Epoch ms of the next check. */
  nextCheckAt?: number;
}

export type ChannelMessage =
  | { type: 'leader'; tabId: string; application: string; at: number }
  | { type: 'send-now'; from: string; reason: 'error' | 'request' | 'online'; sessionId?: string }
  | { type: 'sent'; sessionIds: string[] }
  | { type: 'state'; from: string; state: SenderState }
  /** The user's consent answer changed (already stored in `meta`); every tab re-reads it. */
  | { type: 'consent'; granted: boolean; at: number }
  /** `clearLocalData()` in one tab is deleting the product's data: every other tab stops recording and closes the database. */
  | { type: 'cleared'; at: number }
  /** A session marked `sendOnExit` has ended in a page no service worker controls: a tab with a collector sends it. */
  | { type: 'exit-send'; sessionId: string };

export const isChannelMessage = (v: unknown): v is ChannelMessage =>
  typeof v === 'object' &&
  v !== null &&
  ['leader', 'send-now', 'sent', 'state', 'consent', 'cleared', 'exit-send'].includes((v as { type?: unknown }).type as string);
