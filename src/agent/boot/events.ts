/** The events the agent emits (`on(event, handler)`), kept apart so the public types import no internals. */
import type { SenderState } from '../../shared/channel.js';
import type { SessionSummary } from '../../shared/summary.js';
import type { FerryOptions } from '../config/options.js';
import type { AlertEvent } from '../log/alerts.js';

export type { AlertEvent } from '../log/alerts.js';

/** `initialize`: fired by init() before anything starts; a handler may change `options` (e.g. `server.autoSendSessions` from the app's own opt-in record). */
export interface InitializeEvent {
  options: FerryOptions;
}

export interface AgentEvents {
  /** init() is about to start the agent (handlers registered before init). */
  initialize: InitializeEvent;
  alert: AlertEvent;
  /** Sender and outbox status (from this tab's sender). */
  state: SenderState;
  /** A new session started (at init, and after a back/forward-cache restore). */
  session: SessionSummary;
  /** Sessions found crashed. */
  crashed: string[];
  /** The consent answer changed, in this tab or another. */
  consent: { granted: boolean };
}
