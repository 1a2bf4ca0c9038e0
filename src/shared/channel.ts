/**
 * Messages on the BroadcastChannel `ferry:<product>` between tabs and the service worker
 * (DESIGN.md §2): one discriminated union, the only definition of what crosses it.
 */
export const channelName = (product: string): string => `ferry:${product}`;

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
  | { type: 'state'; from: string; state: SenderState };

export const isChannelMessage = (v: unknown): v is ChannelMessage =>
  typeof v === 'object' && v !== null && ['leader', 'send-now', 'sent', 'state'].includes((v as { type?: unknown }).type as string);

export const senderLockName = (product: string, application?: string): string =>
  application === undefined ? `ferry:sender:${product}` : `ferry:sender:${product}:${application}`;

export const uploadLockName = (sessionId: string): string => `ferry:upload:${sessionId}`;

/** Background Sync tag registered when an upload fails for lack of network. */
export const SYNC_TAG = 'ferry-upload';
