// Error and critical messages raise an `alert` (the Loupe agent's MessageAlert), batched per task;
// its handlers decide whether the running session is sent now.
import type { PendingMessage } from '../../shared/message.js';
import type { BeforeLogMessage, ResolvedOptions } from '../config/options.js';

/** Error and critical messages (batched), as the Loupe agent's MessageAlert. */
export interface AlertEvent {
  messages: BeforeLogMessage[];
  /** Whether to send now; handlers may change it. Default: autoSendSessions && autoSendOnError. */
  sendSession: boolean;
  /** Least time since the last error-triggered send; handlers may change it. */
  minimumDelayMs: number;
}

export interface AlertDeps {
  /**
   * A monotonic clock for the throttle: the wall clock can move (a day back would hold every
   * error send for a day, a day forward would let one through early). @defaultValue performance.now
   */
  elapsed?: () => number;
  options: () => ResolvedOptions;
  emit: (alert: AlertEvent) => void;
  /** Sends the running session as it stands (stored first). */
  sendSession: () => void;
}

/** Messages kept per alert; a flood of errors in one task raises one alert, not thousands. */
const MAX_PER_ALERT = 100;

export const createAlerts = (deps: AlertDeps): ((m: PendingMessage) => void) => {
  let queue: BeforeLogMessage[] = [];
  let lastSend = -Infinity;
  const elapsed = deps.elapsed ?? (() => performance.now());

  const fire = (): void => {
    const messages = queue;
    queue = [];
    const s = deps.options().server;
    const alert: AlertEvent = { messages, sendSession: s.autoSendSessions && s.autoSendOnError, minimumDelayMs: s.minimumNotificationDelayMs };
    deps.emit(alert);
    if (!alert.sendSession || elapsed() - lastSend < alert.minimumDelayMs) return;
    lastSend = elapsed();
    deps.sendSession();
  };

  return (m) => {
    if (queue.length === 0) setTimeout(fire, 0);
    if (queue.length < MAX_PER_ALERT) queue.push({ time: m.time, severity: m.severity, category: m.category, text: m.text, exception: m.exception });
  };
};
