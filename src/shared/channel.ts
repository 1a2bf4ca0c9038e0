/**
 * Messages on the BroadcastChannel `ferry:<product>` between tabs and the service worker
 * (DESIGN.md §2): one discriminated union, the only definition of what crosses it.
 */

export type SenderPhase = 'idle' | 'summaries' | 'compressing' | 'uploading' | 'waiting' | 'offline' | 'no-consent' | 'off';

/** Sender and outbox status, for the report dialog and the demo's status panel. */
export interface SenderState {
  /** Whether this context is the elected sender. */
  leader: boolean;
  phase: SenderPhase;
  /** Sessions eligible and not yet confirmed. */
  queued: number;
  /** Sessions the server refused (400/413…) and that are not retried, with the reason. */
  parked: { id: string; reason: string }[];
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
  | { type: 'cleared'; at: number };

export const isChannelMessage = (v: unknown): v is ChannelMessage =>
  typeof v === 'object' && v !== null && ['leader', 'send-now', 'sent', 'state', 'consent', 'cleared'].includes((v as { type?: unknown }).type as string);
