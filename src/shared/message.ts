import { isSeverity, type Severity } from './severity.js';

/** An exception attached to a message (from an Error or a rejection reason). */
export interface ExceptionInfo {
  name: string;
  message: string;
  stack?: string;
}

/**
 * One log message as stored locally and sent: one NDJSON line per message.
 * `sessionId` is on every line so the collector can refuse lines of another session.
 */
export interface LogMessage {
  sessionId: string;
  /** 1-based, strictly increasing within a session: the true order whatever the clocks say. */
  seq: number;
  /** Milliseconds since the epoch, agent clock. */
  time: number;
  severity: Severity;
  category: string;
  text: string;
  /** JSON value supplied by the app (already made JSON-safe by the agent). */
  details?: unknown;
  exception?: ExceptionInfo;
}

/** Limits the agent applies to each message before it is stored (documented in docs/options.md). */
export const MESSAGE_LIMITS = {
  /** Characters of `text`; longer text is cut and ends with a marker. */
  maxTextLength: 16_384,
  maxCategoryLength: 256,
  /** Characters of the serialised `details` JSON. */
  maxDetailsLength: 32_768,
  maxStackLength: 16_384,
} as const;

export const TRUNCATION_MARKER = '…[truncated]';

export const encodeMessage = (m: LogMessage): string => JSON.stringify(m);

/** NDJSON of many messages, each line ending in "\n". */
export const encodeMessages = (messages: readonly LogMessage[]): string => {
  let out = '';
  for (const m of messages) out += JSON.stringify(m) + '\n';
  return out;
};

export class MessageDecodeError extends Error {
  override name = 'MessageDecodeError';
  constructor(
    message: string,
    readonly line: number,
  ) {
    super(message);
  }
}

/** Validates one parsed NDJSON line; returns a reason string when it is not a LogMessage. */
export const checkMessage = (v: unknown): string | undefined => {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return 'not an object';
  const m = v as Record<string, unknown>;
  if (typeof m.sessionId !== 'string' || m.sessionId === '') return 'sessionId must be a non-empty string';
  if (!Number.isSafeInteger(m.seq) || (m.seq as number) < 1) return 'seq must be a positive integer';
  if (typeof m.time !== 'number' || !Number.isFinite(m.time)) return 'time must be a finite number';
  if (!isSeverity(m.severity)) return 'severity is not one of critical/error/warning/information/verbose';
  if (typeof m.category !== 'string') return 'category must be a string';
  if (typeof m.text !== 'string') return 'text must be a string';
  if (m.exception !== undefined) {
    const e = m.exception as Record<string, unknown>;
    if (typeof e !== 'object' || e === null || typeof e.name !== 'string' || typeof e.message !== 'string')
      return 'exception must be { name, message, stack? }';
  }
  return undefined;
};

/** Parses NDJSON text into messages; throws MessageDecodeError naming the first bad line. */
export const decodeMessages = (ndjson: string): LogMessage[] => {
  const out: LogMessage[] = [];
  let line = 0;
  for (const raw of ndjson.split('\n')) {
    line++;
    if (raw === '') continue;
    let v: unknown;
    try {
      v = JSON.parse(raw);
    } catch {
      throw new MessageDecodeError(`line ${line} is not JSON`, line);
    }
    const bad = checkMessage(v);
    if (bad) throw new MessageDecodeError(`line ${line}: ${bad}`, line);
    out.push(v as LogMessage);
  }
  return out;
};

/**
 * A message before it is stored: `details` already serialised (a snapshot taken at the
 * call, so later mutation by the app cannot change what was logged).
 */
export interface PendingMessage {
  seq: number;
  time: number;
  severity: LogMessage['severity'];
  category: string;
  text: string;
  detailsJson?: string;
  exception?: ExceptionInfo;
}

/**
 * One NDJSON line for `m`, equal to `encodeMessage` of the decoded message, without re-serialising
 * details. `categoryJson` lets a batch serialise each of its (few, repeated) categories once.
 */
export const encodeLine = (sessionIdJson: string, m: PendingMessage, categoryJson: string = JSON.stringify(m.category)): string => {
  let s = `{"sessionId":${sessionIdJson},"seq":${m.seq},"time":${m.time},"severity":"${m.severity}","category":${categoryJson},"text":${JSON.stringify(m.text)}`;
  if (m.detailsJson !== undefined) s += `,"details":${m.detailsJson}`;
  if (m.exception !== undefined) s += `,"exception":${JSON.stringify(m.exception)}`;
  return s + '}\n';
};
