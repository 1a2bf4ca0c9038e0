import type { LogMessage } from '../../shared/message.js';

/** A message as the `beforeLog` hook sees it; return it (edited) to keep it, or null to drop it. */
export type BeforeLogMessage = Pick<LogMessage, 'severity' | 'category' | 'text' | 'details' | 'exception' | 'time'>;
export type BeforeLog = (message: BeforeLogMessage) => BeforeLogMessage | null | undefined;

export interface ServerOptions {
  /** Collector base URL, e.g. `https://telemetry.example.com`. */
  url?: string;
  /** Public ingest key of the product (allows sending only). */
  ingestKey?: string;
  /** Send ended and crashed sessions in the background. @defaultValue false */
  autoSendSessions: boolean;
  /** With auto-send on, an error or critical message makes the current session eligible soon. @defaultValue true */
  autoSendOnError: boolean;
  /** Send (and elect one sender for) every application of the product. @defaultValue false */
  sendAllApplications: boolean;
  /** Delete sessions locally once the server confirmed them (or declined their detail). @defaultValue false */
  purgeSentSessions: boolean;
  /** At page exit, hand the session to the service worker to send with full detail. @defaultValue false */
  sendSessionsOnExit: boolean;
  /** Least time between two sends caused by errors. @defaultValue 300000 */
  minimumNotificationDelayMs: number;
}

export interface PackagerOptions {
  /** @defaultValue true */ allowServer: boolean;
  /** @defaultValue true */ allowFile: boolean;
  /** @defaultValue true */ allowFolder: boolean;
  /** @defaultValue true */ allowEmail: boolean;
}

export interface StorageOptions {
  /** Local storage limit for the product's database. @defaultValue 52428800 (50 MiB) */
  maxLocalBytes: number;
  /** Sessions older than this are deleted. @defaultValue 30 */
  maxLocalAgeDays: number;
  /** Messages held in memory before they reach IndexedDB; past it, the least severe are dropped and counted. @defaultValue 100000 */
  maxBufferedMessages: number;
}

export interface CaptureOptions {
  /** Uncaught errors (`window` `error` events). @defaultValue true */ errors: boolean;
  /** Unhandled promise rejections. @defaultValue true */ rejections: boolean;
  /** `console.error/warn/info/log/debug` calls. @defaultValue false */ console: boolean;
}

export interface ConsentOptions {
  /** Nothing is sent automatically until consent is granted. @defaultValue false */
  required: boolean;
  companyName?: string;
  serviceName?: string;
  privacyPolicyUrl?: string;
  /** Times the consent prompt may be shown before the agent stops asking. @defaultValue 3 */
  promptLimit: number;
}

/** Options given to `init()`. Only `product`, `application` and `version` are required. */
export interface FerryOptions {
  product: string;
  application: string;
  version: string;
  server?: Partial<ServerOptions>;
  packager?: Partial<PackagerOptions>;
  storage?: Partial<StorageOptions>;
  capture?: Partial<CaptureOptions>;
  consent?: Partial<ConsentOptions>;
  beforeLog?: BeforeLog;
  /** Service worker script to register (workbox-window), or false for none. @defaultValue false */
  serviceWorker?: { url: string } | false;
  /** A small notice on uncaught errors offering a report. @defaultValue false */
  errorNotice?: boolean;
  /** URL of `ferry-worker.js`; by default next to the agent script. */
  workerUrl?: string;
}

export interface ResolvedOptions {
  product: string;
  application: string;
  version: string;
  server: ServerOptions;
  packager: PackagerOptions;
  storage: StorageOptions;
  capture: CaptureOptions;
  consent: ConsentOptions;
  beforeLog?: BeforeLog;
  serviceWorker: { url: string } | false;
  errorNotice: boolean;
  workerUrl?: string;
}

/** The one defaults table; `validate` checks each given value against its default's type. */
export const DEFAULTS = {
  server: {
    autoSendSessions: false,
    autoSendOnError: true,
    sendAllApplications: false,
    purgeSentSessions: false,
    sendSessionsOnExit: false,
    minimumNotificationDelayMs: 300_000,
  },
  packager: { allowServer: true, allowFile: true, allowFolder: true, allowEmail: true },
  storage: { maxLocalBytes: 50 * 1024 * 1024, maxLocalAgeDays: 30, maxBufferedMessages: 100_000 },
  capture: { errors: true, rejections: true, console: false },
  consent: { required: false, promptLimit: 3 },
} as const;

/** Optional string options that have no default. */
const OPTIONAL_STRINGS: Record<string, readonly string[]> = {
  server: ['url', 'ingestKey'],
  consent: ['companyName', 'serviceName', 'privacyPolicyUrl'],
};

type Group = keyof typeof DEFAULTS;
const GROUPS = Object.keys(DEFAULTS) as Group[];

const describe = (v: unknown): string =>
  v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v === 'string' ? `"${v.slice(0, 40)}"` : typeof v;

/** Returns the problem with `value` for option `group.key`, or undefined when it is valid. */
const checkField = (group: Group, key: string, value: unknown): string | undefined => {
  const def = (DEFAULTS[group] as Record<string, unknown>)[key];
  if (def === undefined) {
    if (!OPTIONAL_STRINGS[group]?.includes(key)) return `is not a known option`;
    if (typeof value !== 'string' || value.trim() === '') return `must be a non-empty string (got ${describe(value)})`;
    if (group === 'server' && key === 'url') {
      try {
        const u = new URL(value);
        if (u.protocol !== 'http:' && u.protocol !== 'https:') return `must be an http(s) URL (got ${describe(value)})`;
      } catch {
        return `must be an absolute URL (got ${describe(value)})`;
      }
    }
    return undefined;
  }
  if (typeof def === 'boolean') return typeof value === 'boolean' ? undefined : `must be true or false (got ${describe(value)})`;
  if (typeof def === 'number')
    return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? undefined : `must be a number ≥ 0 (got ${describe(value)})`;
  return undefined;
};

const NAME_RE = /^[^\u0000-\u001f]{1,100}$/;

/**
 * Checks every option; returns a list of "option.path: problem" strings (empty when valid).
 * `partial` is for `configure()`, where the identity options may be absent.
 */
export const findProblems = (o: unknown, partial = false): string[] => {
  const problems: string[] = [];
  if (typeof o !== 'object' || o === null) return [`options must be an object (got ${describe(o)})`];
  const opts = o as Record<string, unknown>;
  for (const k of ['product', 'application', 'version'] as const) {
    const v = opts[k];
    if (v === undefined && partial) continue;
    if (typeof v !== 'string' || v.trim() === '' || !NAME_RE.test(v))
      problems.push(`${k}: required, a non-empty string of at most 100 characters (got ${describe(v)})`);
  }
  for (const g of GROUPS) {
    const v = opts[g];
    if (v === undefined) continue;
    if (typeof v !== 'object' || v === null || Array.isArray(v)) {
      problems.push(`${g}: must be an object (got ${describe(v)})`);
      continue;
    }
    for (const [k, val] of Object.entries(v)) {
      if (val === undefined) continue;
      const p = checkField(g, k, val);
      if (p) problems.push(`${g}.${k}: ${p}`);
    }
  }
  if (opts.beforeLog !== undefined && typeof opts.beforeLog !== 'function')
    problems.push(`beforeLog: must be a function (got ${describe(opts.beforeLog)})`);
  const sw = opts.serviceWorker;
  if (sw !== undefined && sw !== false && (typeof sw !== 'object' || sw === null || typeof (sw as { url?: unknown }).url !== 'string'))
    problems.push(`serviceWorker: must be { url: string } or false (got ${describe(sw)})`);
  for (const k of ['errorNotice'] as const)
    if (opts[k] !== undefined && typeof opts[k] !== 'boolean') problems.push(`${k}: must be true or false (got ${describe(opts[k])})`);
  if (opts.workerUrl !== undefined && typeof opts.workerUrl !== 'string') problems.push(`workerUrl: must be a string`);
  const known = new Set<string>(['product', 'application', 'version', 'beforeLog', 'serviceWorker', 'errorNotice', 'workerUrl', ...GROUPS]);
  for (const k of Object.keys(opts)) if (!known.has(k)) problems.push(`${k}: is not a known option`);
  return problems;
};

/** Validates and fills defaults; throws a TypeError naming every bad option. */
export const resolveOptions = (o: FerryOptions): ResolvedOptions => {
  const problems = findProblems(o);
  if (problems.length) throw new TypeError(`Ferry init: invalid options — ${problems.join('; ')}`);
  return mergeOptions(
    {
      product: o.product.trim(),
      application: o.application.trim(),
      version: o.version.trim(),
      server: { ...DEFAULTS.server },
      packager: { ...DEFAULTS.packager },
      storage: { ...DEFAULTS.storage },
      capture: { ...DEFAULTS.capture },
      consent: { ...DEFAULTS.consent },
      serviceWorker: false,
      errorNotice: false,
    },
    o,
  );
};

/** Applies the valid parts of `change` on top of `base` (identity options never change). */
export const mergeOptions = (base: ResolvedOptions, change: Partial<FerryOptions>): ResolvedOptions => {
  const next: ResolvedOptions = { ...base };
  for (const g of GROUPS) {
    const part = change[g];
    if (part) (next as unknown as Record<Group, object>)[g] = { ...base[g], ...stripUndefined(part) };
  }
  if ('beforeLog' in change) next.beforeLog = change.beforeLog;
  if (change.serviceWorker !== undefined) next.serviceWorker = change.serviceWorker;
  if (change.errorNotice !== undefined) next.errorNotice = change.errorNotice;
  if (change.workerUrl !== undefined) next.workerUrl = change.workerUrl;
  return next;
};

const stripUndefined = (o: object): object => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
