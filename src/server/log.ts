/** Structured logs: one JSON object per line (or a readable line in dev), written synchronously. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFormat = 'json' | 'pretty';
export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  child(fields: LogFields): Logger;
}

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface LoggerOptions {
  level?: LogLevel;
  format?: LogFormat;
  write?: (line: string) => void;
  now?: () => number;
}

const errorFields = (v: unknown): unknown => (v instanceof Error ? { name: v.name, message: v.message, stack: v.stack } : v);

/**
 * Logged values come from clients (a request path, a header): a newline would forge a log line
 * and an escape sequence would drive the operator's terminal. JSON.stringify escapes C0 controls
 * only; these are the rest a terminal or a line-based reader acts on: DEL, the C1 controls
 * (U+009B is CSI on its own) and the Unicode line and paragraph separators.
 */
const UNSAFE_BEYOND_JSON = /[\u007f-\u009f\u2028\u2029]/g;
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g;
const hex4 = (ch: string): string => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`;
/** A JSON text with nothing a terminal or line reader acts on (still valid JSON). */
const safeJson = (json: string): string => json.replace(UNSAFE_BEYOND_JSON, hex4);
/** Free text for the pretty format: every control character as a \uXXXX escape. */
export const escapeText = (s: string): string => s.replace(UNSAFE, hex4);
/**
 * A value in the pretty format's `key=value`: bare when it cannot be mistaken for more (no
 * white space, quote, `=`, backslash or control character), else a JSON string, so a value like
 * `x status=200` cannot pose as another field.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: a bare value has no control character
const BARE = /^[^\s"=\\\u0000-\u001f\u007f-\u009f]+$/;
const prettyValue = (v: unknown): string => {
  if (typeof v === 'string') return BARE.test(v) ? v : safeJson(JSON.stringify(v));
  return safeJson(JSON.stringify(v) ?? String(v));
};

export const createLogger = (opts: LoggerOptions = {}, base: LogFields = {}): Logger => {
  const min = RANK[opts.level ?? 'info'];
  const write = opts.write ?? ((line: string) => process.stdout.write(line + '\n'));
  const now = opts.now ?? Date.now;
  const emit = (level: LogLevel, msg: string, fields?: LogFields): void => {
    if (RANK[level] < min) return;
    const all: LogFields = { ...base, ...fields };
    for (const k of Object.keys(all)) all[k] = errorFields(all[k]);
    if (opts.format === 'pretty') {
      const extra = Object.entries(all)
        .filter(([, v]) => v !== undefined)
        .map(([k, v]) => `${escapeText(k).replace(/[\s=]/g, '_')}=${prettyValue(v)}`)
        .join(' ');
      write(`${new Date(now()).toISOString().slice(11, 23)} ${level.padEnd(5)} ${escapeText(msg)}${extra ? ' ' + extra : ''}`);
    } else {
      write(safeJson(JSON.stringify({ time: new Date(now()).toISOString(), level, msg, ...all })));
    }
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    child: (fields) => createLogger(opts, { ...base, ...fields }),
  };
};

/** For tests: keeps every record, prints nothing. */
export const createMemoryLogger = (): Logger & { records: LogFields[] } => {
  const records: LogFields[] = [];
  const logger = createLogger({ level: 'debug', write: (line) => records.push(JSON.parse(line) as LogFields) });
  return Object.assign(logger, { records });
};
