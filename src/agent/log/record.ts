// The call site of every log method: normalises what the app passed, runs `beforeLog`, numbers the
// message and hands it to the writer. It must stay cheap: it runs inside app code.
import { MESSAGE_LIMITS, type PendingMessage } from '../../shared/message.js';
import type { Severity } from '../../shared/severity.js';
import type { LossAccounting } from '../../shared/summary.js';
import type { ResolvedOptions } from '../config/options.js';
import { monitorError, warnOnce } from '../tools/monitor.js';
import * as normalize from './normalize.js';

export type RecordFn = (severity: Severity, category: unknown, text: unknown, details?: unknown, exception?: unknown) => void;

export interface RecorderDeps {
  now: () => number;
  options: () => ResolvedOptions;
  /** The next sequence number of the current session. */
  nextSeq: () => number;
  /** The current session's loss accounting (messages `beforeLog` dropped are counted here). */
  dropped: () => LossAccounting;
  push: (m: PendingMessage) => void;
  /** Error and critical messages, once stored in the buffer. */
  alert: (m: PendingMessage) => void;
}

export const createRecorder = (deps: RecorderDeps): RecordFn => {
  /** Runs the app's scrubbing hook; false when it dropped the message. */
  const applyBeforeLog = (m: PendingMessage, details: unknown, exception: unknown): boolean => {
    const hook = deps.options().beforeLog;
    if (!hook) return true;
    let out: ReturnType<typeof hook>;
    try {
      out = hook({
        time: m.time,
        severity: m.severity,
        category: m.category,
        text: m.text,
        details,
        exception: exception === undefined ? undefined : normalize.exceptionInfo(exception),
      });
    } catch (e) {
      // A scrubber that fails must not let unscrubbed data through: drop the message.
      warnOnce('beforeLog-throw', 'beforeLog threw; the message was dropped', e);
      out = null;
    }
    if (!out || typeof out !== 'object') {
      deps.dropped().beforeLog++;
      return false;
    }
    m.category = normalize.category(out.category);
    m.text = normalize.text(out.text);
    if (out.details !== undefined) m.detailsJson = normalize.safeJson(out.details);
    if (out.exception !== undefined) m.exception = normalize.exceptionInfo(out.exception);
    return true;
  };

  return (severity, category, text, details, exception) => {
    try {
      // Every field set here, in one order: messages share one hidden class, which keeps this cheap.
      const m: PendingMessage = {
        seq: 0,
        time: deps.now(),
        severity,
        category:
          typeof category === 'string' && category !== '' && category.length <= MESSAGE_LIMITS.maxCategoryLength ? category : normalize.category(category),
        text: typeof text === 'string' && text.length <= MESSAGE_LIMITS.maxTextLength ? text : normalize.text(text),
        detailsJson: undefined,
        exception: undefined,
      };
      if (deps.options().beforeLog) {
        if (!applyBeforeLog(m, details, exception)) return;
      } else {
        if (details !== undefined) m.detailsJson = normalize.safeJson(details);
        if (exception !== undefined) m.exception = normalize.exceptionInfo(exception);
      }
      m.seq = deps.nextSeq();
      deps.push(m);
      if (severity === 'error' || severity === 'critical') deps.alert(m);
    } catch (e) {
      monitorError('log', e);
    }
  };
};
