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
        .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
        .join(' ');
      write(`${new Date(now()).toISOString().slice(11, 23)} ${level.padEnd(5)} ${msg}${extra ? ' ' + extra : ''}`);
    } else {
      write(JSON.stringify({ time: new Date(now()).toISOString(), level, msg, ...all }));
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
