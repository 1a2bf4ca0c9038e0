import { tokenProblem } from '../../shared/context.js';
import { NAME_MAX_LENGTH, nameProblem } from '../../shared/limits.js';
import type { LogMessage } from '../../shared/message.js';
import type { SessionSummary } from '../../shared/summary.js';
import type { Labels } from '../ui/types.js';

/** A message as the `beforeLog` hook sees it; return it (edited) to keep it, or null to drop it. */
export type BeforeLogMessage = Pick<LogMessage, 'severity' | 'category' | 'text' | 'details' | 'exception' | 'time'>;
export type BeforeLog = (message: BeforeLogMessage) => BeforeLogMessage | null | undefined;

/**
 * Scrubs the summary's descriptive fields — `url`, `userAgent`, `environment`, `installationId`,
 * `user`, `context` — before they are stored and sent; every other field is the agent's own and
 * is read only (changes to it are ignored). Gets a copy: return it (edited), or edit it and return
 * nothing; return null to keep none of those fields. A hook that throws counts as null. Runs in the
 * recording tab when the session starts and whenever the user or context changes (docs/data-collected.md).
 */
// biome-ignore lint/suspicious/noConfusingVoidType: a hook that edits its argument and returns nothing is typed `void`, and must type-check
export type BeforeSummary = (summary: SessionSummary) => SessionSummary | null | void;

/**
 * One option: a boolean or number is the option's default (and so its type); `'text'` and `'url'`
 * are optional strings without a default (a URL must be absolute http(s)).
 */
type Field = boolean | number | 'text' | 'url';

/**
 * The one schema of every grouped option: it is at once the defaults, the validator and, through
 * GroupOptions, the TypeScript type (as DataDog's configuration schema). Documented here, once.
 */
export const SCHEMA = {
  server: {
    /** Collector base URL, e.g. `https://telemetry.example.com`. */
    url: 'url',
    /** Public ingest key of the product (allows sending only). */
    ingestKey: 'text',
    /** Send ended and crashed sessions in the background. @defaultValue false */
    autoSendSessions: false,
    /** With auto-send on, an error or critical message makes the current session eligible soon. @defaultValue true */
    autoSendOnError: true,
    /** Send (and elect one sender for) every application of the product. @defaultValue false */
    sendAllApplications: false,
    /** Delete sessions locally once the server confirmed them (or declined their detail). @defaultValue false */
    purgeSentSessions: false,
    /** At page exit, hand the session to the service worker to send with full detail. @defaultValue false */
    sendSessionsOnExit: false,
    /** Least time between two sends caused by errors. @defaultValue 300000 */
    minimumNotificationDelayMs: 300_000,
  },
  packager: {
    /** @defaultValue true */ allowServer: true,
    /** @defaultValue true */ allowFile: true,
    /** @defaultValue true */ allowFolder: true,
    /** @defaultValue true */ allowEmail: true,
  },
  storage: {
    /** Local storage limit for the product's database. @defaultValue 52428800 (50 MiB) */
    maxLocalBytes: 50 * 1024 * 1024,
    /** Sessions older than this are deleted. @defaultValue 30 */
    maxLocalAgeDays: 30,
    /** Messages held in memory before they reach IndexedDB; past it, the least severe are dropped and counted. @defaultValue 100000 */
    maxBufferedMessages: 100_000,
  },
  capture: {
    /** Uncaught errors (`window` `error` events). @defaultValue true */ errors: true,
    /** Unhandled promise rejections. @defaultValue true */ rejections: true,
    /** `console.error/warn/info/log/debug` calls. @defaultValue false */ console: false,
  },
  consent: {
    /** Nothing is sent automatically until consent is granted. @defaultValue false */
    required: false,
    companyName: 'text',
    serviceName: 'text',
    privacyPolicyUrl: 'text',
    /** Times the consent prompt may be shown before the agent stops asking. @defaultValue 3 */
    promptLimit: 3,
  },
  privacy: {
    /** Keep the page URL's query (`?…`) in the summary; it often carries tokens, e-mail addresses or search terms. @defaultValue false */
    keepUrlQuery: false,
    /** Keep the page URL's fragment (`#…`) in the summary (client-side routes, but also OAuth tokens). @defaultValue false */
    keepUrlFragment: false,
  },
} as const satisfies Record<string, Record<string, Field>>;

type Schema = typeof SCHEMA;
type Group = keyof Schema;
type ValueOf<F> = F extends boolean ? boolean : F extends number ? number : string;
type Simplify<T> = { [K in keyof T]: T[K] } & {};
/** A group's resolved type: options with a default are always there, the others optional. */
type GroupOptions<G> = Simplify<
  { -readonly [K in keyof G as G[K] extends string ? never : K]: ValueOf<G[K]> } & {
    -readonly [K in keyof G as G[K] extends string ? K : never]?: ValueOf<G[K]>;
  }
>;

export type ServerOptions = GroupOptions<Schema['server']>;
export type PackagerOptions = GroupOptions<Schema['packager']>;
export type StorageOptions = GroupOptions<Schema['storage']>;
export type CaptureOptions = GroupOptions<Schema['capture']>;
export type ConsentOptions = GroupOptions<Schema['consent']>;
export type PrivacyOptions = GroupOptions<Schema['privacy']>;

type Defaults<G> = { [K in keyof G as G[K] extends string ? never : K]: ValueOf<G[K]> };
const defaultsOf = <G extends Record<string, Field>>(group: G): Defaults<G> =>
  Object.fromEntries(Object.entries(group).filter(([, f]) => typeof f !== 'string')) as Defaults<G>;

/** Every default, derived from the schema. */
export const DEFAULTS = {
  server: defaultsOf(SCHEMA.server),
  packager: defaultsOf(SCHEMA.packager),
  storage: defaultsOf(SCHEMA.storage),
  capture: defaultsOf(SCHEMA.capture),
  consent: defaultsOf(SCHEMA.consent),
  privacy: defaultsOf(SCHEMA.privacy),
};

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
  privacy?: Partial<PrivacyOptions>;
  /** Where the app runs ("production", "staging"): 1–64 letters, digits or `_ . : -`; recorded on each session. Cannot change after init. */
  environment?: string;
  beforeLog?: BeforeLog;
  beforeSummary?: BeforeSummary;
  /** Service worker script to register (workbox-window), or false for none. @defaultValue false */
  serviceWorker?: { url: string } | false;
  /** A small notice on uncaught errors offering a report. @defaultValue false */
  errorNotice?: boolean;
  /** URL of `ferry-worker.js`; by default next to the agent script. */
  workerUrl?: string;
  /** The dialogs' and the notice's strings, each overridable (docs/ui.md), e.g. to translate them; a value that is not a string is ignored. */
  labels?: Partial<Labels>;
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
  privacy: PrivacyOptions;
  environment?: string;
  beforeLog?: BeforeLog;
  beforeSummary?: BeforeSummary;
  serviceWorker: { url: string } | false;
  errorNotice: boolean;
  workerUrl?: string;
  labels?: Partial<Labels>;
}

const GROUPS = Object.keys(SCHEMA) as Group[];

const describe = (v: unknown): string => (v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v === 'string' ? `"${v.slice(0, 40)}"` : typeof v);

/** Returns the problem with `value` for option `group.key`, or undefined when it is valid. */
const checkField = (group: Group, key: string, value: unknown): string | undefined => {
  const field: Field | undefined = (SCHEMA[group] as Record<string, Field>)[key];
  if (field === undefined) return 'is not a known option';
  if (typeof field === 'boolean') return typeof value === 'boolean' ? undefined : `must be true or false (got ${describe(value)})`;
  if (typeof field === 'number')
    return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? undefined : `must be a number ≥ 0 (got ${describe(value)})`;
  if (typeof value !== 'string' || value.trim() === '') return `must be a non-empty string (got ${describe(value)})`;
  if (field === 'text') return undefined;
  try {
    const u = new URL(value);
    return u.protocol === 'http:' || u.protocol === 'https:' ? undefined : `must be an http(s) URL (got ${describe(value)})`;
  } catch {
    return `must be an absolute URL (got ${describe(value)})`;
  }
};

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
    // The collector checks names by the same rule (shared/limits.ts); surrounding white space is trimmed here first.
    if (typeof v !== 'string') problems.push(`${k}: required, a name of 1–${NAME_MAX_LENGTH} characters (got ${describe(v)})`);
    else {
      const problem = nameProblem(v.trim());
      if (problem) problems.push(`${k}: ${problem} (got ${describe(v)})`);
    }
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
  for (const k of ['beforeLog', 'beforeSummary'] as const)
    if (opts[k] !== undefined && typeof opts[k] !== 'function') problems.push(`${k}: must be a function (got ${describe(opts[k])})`);
  if (opts.environment !== undefined && tokenProblem(opts.environment))
    problems.push(`environment: ${tokenProblem(opts.environment)} (got ${describe(opts.environment)})`);
  const sw = opts.serviceWorker;
  if (sw !== undefined && sw !== false && (typeof sw !== 'object' || sw === null || typeof (sw as { url?: unknown }).url !== 'string'))
    problems.push(`serviceWorker: must be { url: string } or false (got ${describe(sw)})`);
  for (const k of ['errorNotice'] as const)
    if (opts[k] !== undefined && typeof opts[k] !== 'boolean') problems.push(`${k}: must be true or false (got ${describe(opts[k])})`);
  if (opts.workerUrl !== undefined && typeof opts.workerUrl !== 'string') problems.push(`workerUrl: must be a string`);
  const known = new Set<string>([
    'product',
    'application',
    'version',
    'environment',
    'beforeLog',
    'beforeSummary',
    'serviceWorker',
    'errorNotice',
    'workerUrl',
    'labels',
    ...GROUPS,
  ]);
  for (const k of Object.keys(opts)) if (!known.has(k)) problems.push(`${k}: is not a known option`);
  return problems;
};

const UNKNOWN = ': is not a known option';

/** Splits problems into unknown keys (a habit from another SDK: warned about, ignored) and invalid values (the agent stays off). */
export const splitProblems = (problems: readonly string[]): { unknown: string[]; invalid: string[] } => ({
  unknown: problems.filter((p) => p.endsWith(UNKNOWN)),
  invalid: problems.filter((p) => !p.endsWith(UNKNOWN)),
});

/** `o` without the keys findProblems called unknown, so they never reach the resolved options. */
const withoutUnknown = (o: FerryOptions, unknown: readonly string[]): FerryOptions => {
  const out: Record<string, unknown> = { ...o };
  for (const p of unknown) {
    const [path] = p.split(':');
    const [group, key] = path.split('.');
    if (key === undefined) delete out[group];
    else if (typeof out[group] === 'object' && out[group] !== null) {
      const copy: Record<string, unknown> = { ...(out[group] as Record<string, unknown>) };
      delete copy[key];
      out[group] = copy;
    }
  }
  return out as unknown as FerryOptions;
};

/** Validates and fills defaults, leaving out unknown keys; throws a TypeError naming every invalid option. */
export const resolveOptions = (given: FerryOptions): ResolvedOptions => {
  const { unknown, invalid } = splitProblems(findProblems(given));
  if (invalid.length) throw new TypeError(`Ferry init: invalid options — ${invalid.join('; ')}`);
  const o = withoutUnknown(given, unknown);
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
      privacy: { ...DEFAULTS.privacy },
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
  if ('beforeSummary' in change) next.beforeSummary = change.beforeSummary;
  if (change.environment !== undefined) next.environment = change.environment;
  if (change.serviceWorker !== undefined) next.serviceWorker = change.serviceWorker;
  if (change.errorNotice !== undefined) next.errorNotice = change.errorNotice;
  if (change.workerUrl !== undefined) next.workerUrl = change.workerUrl;
  if (change.labels) next.labels = { ...base.labels, ...change.labels };
  return next;
};

const stripUndefined = (o: object): object => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
