/**
 * Collector configuration: one table of defaults, a validator naming the bad field, and the
 * loader (a JSON file, then environment variables on top). Documented in docs/server.md.
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { nameProblem } from '../shared/limits.js';
import { PACKAGE_LIMITS } from '../shared/package-format.js';
import { DETAIL_POLICIES, type DetailPolicy, LIMITS } from '../shared/protocol.js';
import { applyEnv, EnvError } from './config-env.js';
import { configSchema } from './config-schema.js';
import { FieldError } from './errors.js';
import type { LogFormat, LogLevel } from './log.js';
import { arr, at, bool, int, obj, oneOf, str } from './validate/check.js';

/**
 * Rate limits of an ingest key. Keys are public, so the request and work limits apply to each
 * client (the key plus the client's address) and the key as a whole has a ceiling above them.
 */
export interface RateLimitConfig {
  /** Sustained requests per minute per client (token refill rate). */
  perMinute: number;
  /** Requests a client may send at once before the rate applies (bucket size). */
  burst: number;
  /** Sustained requests per minute for the key, all clients together. */
  keyPerMinute: number;
  keyBurst: number;
  /** Work per client: bytes received plus bytes inflated, per minute. */
  bytesPerMinute: number;
  bytesBurst: number;
}

/** Failed admin-token attempts allowed per client address. */
export interface AdminFailureLimit {
  perMinute: number;
  burst: number;
}

export interface IngestKeyConfig {
  key: string;
  /**
   * Origins allowed to use the key: exact origins (`https://app.example.com`), `"self"` (the
   * collector's own origin) or `"*"` (any origin; keys are public like a Sentry DSN).
   * Requests without an `Origin` header (servers, tools) are allowed.
   */
  origins: string[];
  /** Over the top-level `rateLimit`, field by field. */
  rateLimit?: Partial<RateLimitConfig>;
}

export interface ProductConfig {
  policy: DetailPolicy;
  keys: IngestKeyConfig[];
  /** Recipients of `POST /packages/email` for this product (default: `email.to`). */
  emailTo?: string[];
  /** This product's retention, over the top-level `retention` defaults. */
  retention?: Partial<RetentionLimitsConfig>;
  /** This product's disk quota, over the top-level `quota`. */
  quota?: Partial<QuotaConfig>;
}

/**
 * Disk each product may take (0: no limit). Past one, new detail (upload creation, packages) is
 * refused with 507 and Retry-After: the agent keeps the data and tries again later.
 */
export interface QuotaConfig {
  /** Stored bytes (detail blobs + summaries, as retention counts them) past which new detail is refused. */
  storedBytes: number;
  /** Bytes declared by the product's unfinished, unexpired uploads, the new one included. */
  uploadBytes: number;
}

export interface RetentionLimitsConfig {
  /** Sessions last received more than this many days ago are deleted; 0 keeps them forever. */
  maxAgeDays: number;
  /** A product's stored bytes (detail blobs + summaries) above this delete its oldest sessions; 0: no limit. */
  maxBytes: number;
}

export interface RetentionConfig extends RetentionLimitsConfig {
  /** How often retention runs (it also runs at start-up). */
  intervalMs: number;
}

export interface LimitsConfig {
  summariesBodyBytes: number;
  summariesPerRequest: number;
  /** Compressed bytes of one detail upload (declared `Upload-Length`). */
  uploadBytes: number;
  /** Decompressed NDJSON bytes of one session's detail. */
  decompressedBytes: number;
  packageBytes: number;
  packageEntries: number;
  packageTotalBytes: number;
  /**
   * The largest agent clock error applied as a correction (ms, either way): a `sentAt` further off
   * is clamped to it, so a forged or broken clock moves session times by at most this.
   */
  maxClockOffsetMs: number;
  /** Package bodies read at once; another package meanwhile answers 503 with Retry-After. */
  concurrentPackages: number;
}

export type StoreConfig = { kind: 'sqlite' } | { kind: 'postgres'; url: string; poolSize: number };

/** An S3 bucket (AWS S3, MinIO, R2, …) for blobs and uploads in progress: what replicas share. */
export interface S3BlobsConfig {
  kind: 's3';
  bucket: string;
  region: string;
  /** For S3-compatible services (`http://minio:9000`); AWS S3 needs none. */
  endpoint?: string;
  /** `bucket` in the path instead of the host name (MinIO and most self-hosted services). */
  forcePathStyle: boolean;
  /** Prepended to every object key, e.g. `ferry/`. */
  prefix: string;
  /** Without these the SDK's default chain applies (AWS_* variables, profile, instance role). */
  accessKeyId?: string;
  secretAccessKey?: string;
}

/** Where blobs and uploads in progress live: `<dataDir>` (one collector) or S3 (replicas). */
export type BlobsConfig = { kind: 'files' } | S3BlobsConfig;

export interface SmtpConfig {
  host: string;
  port: number;
  secure: boolean;
  user?: string;
  pass?: string;
}

export interface EmailConfig {
  smtp: SmtpConfig;
  from: string;
  to: string[];
}

export interface StaticMount {
  /** URL prefix ending in "/", e.g. "/demo/". */
  prefix: string;
  dir: string;
}

export interface CollectorConfig {
  host: string;
  /** 0 picks a free port. */
  port: number;
  /** The URL clients reach the collector at (behind a proxy); upload URLs are built from it. */
  publicUrl?: string;
  /** Trust `Forwarded` / `X-Forwarded-*` for upload URLs and client addresses. */
  trustProxy: boolean;
  /** Embedded database, uploads in progress and stored blobs live here. */
  dataDir: string;
  store: StoreConfig;
  /** Migrate the database at start-up; with false, run `ferry-collector migrate` first (not ready until then). */
  migrateOnStart: boolean;
  blobs: BlobsConfig;
  /** Bearer tokens for the read API and the viewer. */
  adminTokens: string[];
  /** Bearer tokens for `GET /metrics` only (for a scraper); admin tokens are accepted too. */
  metricsTokens: string[];
  products: Record<string, ProductConfig>;
  limits: LimitsConfig;
  /** Unfinished uploads older than this answer 410 and are deleted. */
  uploadExpirationMs: number;
  cleanupIntervalMs: number;
  /** Agent clocks off by more than this (receive time − `sentAt`) are corrected. */
  clockSkewThresholdMs: number;
  /** Default rate limits of every ingest key. */
  rateLimit: RateLimitConfig;
  adminFailureLimit: AdminFailureLimit;
  email?: EmailConfig;
  /** `requests: false` turns off the access log of successful requests (errors are still logged). */
  log: { level: LogLevel; format: LogFormat; requests: boolean };
  /** How long a graceful shutdown waits for in-flight requests. */
  shutdownTimeoutMs: number;
  /** Serve the viewer page at /viewer/. */
  viewer: boolean;
  /** Deletion of old data, per product (products[name].retention overrides). */
  retention: RetentionConfig;
  /** Disk quota per product (products[name].quota overrides). */
  quota: QuotaConfig;
  /** Heap the read API's cache of decoded sessions may take (estimated bytes). */
  messageCacheBytes: number;
  /** Index stored detail for exception groups and search (false: less ingest CPU, no new groups or search hits). */
  indexing: boolean;
  /** Extra static folders (npm start serves the demo and dist this way). */
  static: StaticMount[];
}

export const DEFAULT_CONFIG: CollectorConfig = {
  host: '127.0.0.1',
  port: 8787,
  trustProxy: false,
  dataDir: './.data',
  store: { kind: 'sqlite' },
  migrateOnStart: true,
  blobs: { kind: 'files' },
  adminTokens: [],
  metricsTokens: [],
  products: {},
  limits: {
    summariesBodyBytes: LIMITS.maxSummariesBodyBytes,
    summariesPerRequest: LIMITS.maxSummariesPerRequest,
    uploadBytes: 32 * 1024 * 1024,
    decompressedBytes: PACKAGE_LIMITS.maxSessionBytes,
    packageBytes: PACKAGE_LIMITS.maxPackageBytes,
    packageEntries: PACKAGE_LIMITS.maxEntries,
    packageTotalBytes: PACKAGE_LIMITS.maxTotalBytes,
    maxClockOffsetMs: 24 * 3600_000,
    concurrentPackages: 8,
  },
  uploadExpirationMs: 24 * 3600_000,
  cleanupIntervalMs: 10 * 60_000,
  clockSkewThresholdMs: 60_000,
  rateLimit: {
    perMinute: 600,
    burst: 120,
    keyPerMinute: 60_000,
    keyBurst: 6_000,
    bytesPerMinute: 128 * 1024 * 1024,
    bytesBurst: 256 * 1024 * 1024,
  },
  adminFailureLimit: { perMinute: 10, burst: 20 },
  log: { level: 'info', format: 'json', requests: true },
  shutdownTimeoutMs: 30_000,
  viewer: true,
  retention: { maxAgeDays: 90, maxBytes: 10 * 1024 ** 3, intervalMs: 3600_000 },
  // Twice retention's bytes: retention trims to 10 GiB hourly, the quota is the hard ceiling
  // between its runs. 1 GiB of unfinished uploads is 32 at the 32 MiB upload limit.
  quota: { storedBytes: 20 * 1024 ** 3, uploadBytes: 1024 ** 3 },
  messageCacheBytes: 256 * 1024 * 1024,
  indexing: true,
  static: [],
};

/** The config file's JSON Schema (config-schema.ts), with these defaults. */
export const CONFIG_SCHEMA = configSchema(DEFAULT_CONFIG);

export const TOP_FIELDS = [
  'host',
  'port',
  'publicUrl',
  'trustProxy',
  'dataDir',
  'store',
  'migrateOnStart',
  'blobs',
  'adminTokens',
  'metricsTokens',
  'products',
  'limits',
  'uploadExpirationMs',
  'cleanupIntervalMs',
  'clockSkewThresholdMs',
  'rateLimit',
  'adminFailureLimit',
  'email',
  'log',
  'shutdownTimeoutMs',
  'viewer',
  'retention',
  'quota',
  'messageCacheBytes',
  'indexing',
  'static',
  '$schema',
  'comment',
] as const;

const RATE_FIELDS = ['perMinute', 'burst', 'keyPerMinute', 'keyBurst', 'bytesPerMinute', 'bytesBurst'] as const;

const checkRate = (v: unknown, field: string): Partial<RateLimitConfig> => {
  const o = obj(v, field, RATE_FIELDS);
  const out: Partial<RateLimitConfig> = {};
  for (const k of RATE_FIELDS) if (o[k] !== undefined) out[k] = int(o[k], at(field, k), 1);
  return out;
};

const checkOrigin = (v: unknown, field: string): string => {
  const s = str(v, field, { min: 1, max: 2048 });
  if (s === '*' || s === 'self') return s;
  let u: URL;
  try {
    u = new URL(s);
  } catch {
    throw new FieldError(field, 'must be an origin like https://app.example.com, "self" or "*"');
  }
  if (u.origin !== s) throw new FieldError(field, `must be an origin without path or trailing slash (${u.origin})`);
  return s;
};

const EMAIL_RE = /^[^\s@<>,;]+@[^\s@<>,;]+$/;
const email = (v: unknown, field: string): string => str(v, field, { min: 3, max: 320, pattern: EMAIL_RE, patternName: 'an email address' });

const checkProducts = (v: unknown, field: string): Record<string, ProductConfig> => {
  const o = obj(v, field);
  const out: Record<string, ProductConfig> = {};
  const allKeys = new Set<string>();
  for (const [name, pv] of Object.entries(o)) {
    const pf = at(field, name);
    // The rule the agent's init applies (shared/limits.ts): a product the agent accepts can be configured here.
    const problem = nameProblem(name);
    if (problem) throw new FieldError(pf, `is not a product name: it ${problem}`);
    const p = obj(pv, pf, ['policy', 'keys', 'emailTo', 'retention', 'quota']);
    const keys = arr(p.keys, at(pf, 'keys'), 1000).map((kv, i) => {
      const kf = `${at(pf, 'keys')}[${i}]`;
      const k = obj(kv, kf, ['key', 'origins', 'rateLimit']);
      const key = str(k.key, at(kf, 'key'), { min: 8, max: 256, pattern: /^[\x21-\x7e]+$/, patternName: 'printable ASCII without spaces' });
      if (allKeys.has(key)) throw new FieldError(at(kf, 'key'), 'is used twice (a key belongs to one product)');
      allKeys.add(key);
      const cfg: IngestKeyConfig = {
        key,
        origins: arr(k.origins, at(kf, 'origins'), 1000).map((x, j) => checkOrigin(x, `${at(kf, 'origins')}[${j}]`)),
      };
      if (k.rateLimit !== undefined) cfg.rateLimit = checkRate(k.rateLimit, at(kf, 'rateLimit'));
      return cfg;
    });
    const pc: ProductConfig = { policy: oneOf(p.policy ?? 'error-or-worse', at(pf, 'policy'), DETAIL_POLICIES), keys };
    if (p.retention !== undefined) pc.retention = checkRetentionLimits(p.retention, at(pf, 'retention'));
    if (p.quota !== undefined) pc.quota = checkQuota(p.quota, at(pf, 'quota'));
    if (p.emailTo !== undefined) pc.emailTo = arr(p.emailTo, at(pf, 'emailTo'), 100, 1).map((x, j) => email(x, `${at(pf, 'emailTo')}[${j}]`));
    out[name] = pc;
  }
  return out;
};

const checkRetentionLimits = (v: unknown, field: string): Partial<RetentionLimitsConfig> => {
  const o = obj(v, field, ['maxAgeDays', 'maxBytes']);
  const out: Partial<RetentionLimitsConfig> = {};
  if (o.maxAgeDays !== undefined) out.maxAgeDays = int(o.maxAgeDays, at(field, 'maxAgeDays'), 0, 100_000);
  if (o.maxBytes !== undefined) out.maxBytes = int(o.maxBytes, at(field, 'maxBytes'), 0);
  return out;
};

const checkQuota = (v: unknown, field: string): Partial<QuotaConfig> => {
  const o = obj(v, field, ['storedBytes', 'uploadBytes']);
  const out: Partial<QuotaConfig> = {};
  if (o.storedBytes !== undefined) out.storedBytes = int(o.storedBytes, at(field, 'storedBytes'), 0);
  if (o.uploadBytes !== undefined) out.uploadBytes = int(o.uploadBytes, at(field, 'uploadBytes'), 0);
  return out;
};

/** The quota of one product: its own fields over the top-level ones. */
export const quotaOf = (config: CollectorConfig, product: string): QuotaConfig => ({ ...config.quota, ...config.products[product]?.quota });

const checkLimits = (v: unknown, field: string, base: LimitsConfig): LimitsConfig => {
  const o = obj(v, field, Object.keys(base));
  const out = { ...base };
  for (const k of Object.keys(base) as (keyof LimitsConfig)[]) {
    if (o[k] !== undefined) out[k] = int(o[k], at(field, k), 1);
  }
  return out;
};

const checkStore = (v: unknown, field: string): StoreConfig => {
  const o = obj(v, field, ['kind', 'url', 'poolSize']);
  const kind = oneOf(o.kind, at(field, 'kind'), ['sqlite', 'postgres'] as const);
  if (kind === 'sqlite') return { kind };
  return {
    kind,
    url: str(o.url, at(field, 'url'), { min: 1, max: 4096, pattern: /^postgres(ql)?:\/\//, patternName: 'a postgres:// URL' }),
    poolSize: o.poolSize === undefined ? 10 : int(o.poolSize, at(field, 'poolSize'), 1, 1000),
  };
};

const checkBlobs = (v: unknown, field: string): BlobsConfig => {
  const o = obj(v, field, ['kind', 'bucket', 'region', 'endpoint', 'forcePathStyle', 'prefix', 'accessKeyId', 'secretAccessKey']);
  const kind = oneOf(o.kind, at(field, 'kind'), ['files', 's3'] as const);
  if (kind === 'files') {
    const extra = Object.keys(o).find((k) => k !== 'kind');
    if (extra) throw new FieldError(at(field, extra), 'is only for kind "s3"');
    return { kind };
  }
  const c: S3BlobsConfig = {
    kind,
    bucket: str(o.bucket, at(field, 'bucket'), { min: 3, max: 63, pattern: /^[a-z0-9][a-z0-9.-]+[a-z0-9]$/, patternName: 'an S3 bucket name' }),
    region:
      o.region === undefined
        ? 'us-east-1'
        : str(o.region, at(field, 'region'), { min: 1, max: 64, pattern: /^[a-z0-9-]+$/, patternName: 'a region like eu-west-1' }),
    forcePathStyle: o.forcePathStyle === undefined ? false : bool(o.forcePathStyle, at(field, 'forcePathStyle')),
    prefix:
      o.prefix === undefined
        ? ''
        : str(o.prefix, at(field, 'prefix'), { max: 200, pattern: /^([A-Za-z0-9._-]+\/)*$/, patternName: 'a key prefix ending in "/" like ferry/' }),
  };
  if (o.endpoint !== undefined)
    c.endpoint = str(o.endpoint, at(field, 'endpoint'), {
      min: 1,
      max: 2048,
      pattern: /^https?:\/\/[^/]+\/?$/,
      patternName: 'a URL like https://s3.example.com',
    });
  if ((o.accessKeyId === undefined) !== (o.secretAccessKey === undefined)) throw new FieldError(at(field, 'accessKeyId'), 'and secretAccessKey go together');
  if (o.accessKeyId !== undefined) c.accessKeyId = str(o.accessKeyId, at(field, 'accessKeyId'), { min: 1, max: 256 });
  if (o.secretAccessKey !== undefined) c.secretAccessKey = str(o.secretAccessKey, at(field, 'secretAccessKey'), { min: 1, max: 256 });
  return c;
};

const checkEmail = (v: unknown, field: string): EmailConfig => {
  const o = obj(v, field, ['smtp', 'from', 'to']);
  const s = obj(o.smtp, at(field, 'smtp'), ['host', 'port', 'secure', 'user', 'pass']);
  const smtp: SmtpConfig = {
    host: str(s.host, at(field, 'smtp.host'), { min: 1, max: 255 }),
    port: int(s.port ?? 587, at(field, 'smtp.port'), 1, 65535),
    secure: s.secure === undefined ? false : bool(s.secure, at(field, 'smtp.secure')),
  };
  if (s.user !== undefined) smtp.user = str(s.user, at(field, 'smtp.user'), { max: 512 });
  if (s.pass !== undefined) smtp.pass = str(s.pass, at(field, 'smtp.pass'), { max: 512 });
  return {
    smtp,
    from: str(o.from, at(field, 'from'), { min: 3, max: 320 }),
    to: o.to === undefined ? [] : arr(o.to, at(field, 'to'), 100).map((x, i) => email(x, `${at(field, 'to')}[${i}]`)),
  };
};

/** Merges `raw` (a parsed config file, or an object from code) over the defaults and validates it. */
export const parseConfig = (raw: unknown, base: CollectorConfig = DEFAULT_CONFIG): CollectorConfig => {
  const o = obj(raw, '', TOP_FIELDS);
  const c: CollectorConfig = structuredClone(base);
  if (o.host !== undefined) c.host = str(o.host, 'host', { min: 1, max: 255 });
  if (o.port !== undefined) c.port = int(o.port, 'port', 0, 65535);
  if (o.publicUrl !== undefined) {
    const u = str(o.publicUrl, 'publicUrl', {
      min: 1,
      max: 2048,
      pattern: /^https?:\/\/[^/]+\/?$/,
      patternName: 'an origin like https://collector.example.com',
    });
    c.publicUrl = u.replace(/\/$/, '');
  }
  if (o.trustProxy !== undefined) c.trustProxy = bool(o.trustProxy, 'trustProxy');
  if (o.dataDir !== undefined) c.dataDir = str(o.dataDir, 'dataDir', { min: 1, max: 4096 });
  if (o.store !== undefined) c.store = checkStore(o.store, 'store');
  if (o.blobs !== undefined) c.blobs = checkBlobs(o.blobs, 'blobs');
  if (o.migrateOnStart !== undefined) c.migrateOnStart = bool(o.migrateOnStart, 'migrateOnStart');
  if (o.adminTokens !== undefined)
    c.adminTokens = arr(o.adminTokens, 'adminTokens', 100).map((x, i) =>
      str(x, `adminTokens[${i}]`, { min: 16, max: 256, pattern: /^[\x21-\x7e]+$/, patternName: 'printable ASCII without spaces' }),
    );
  if (o.metricsTokens !== undefined)
    c.metricsTokens = arr(o.metricsTokens, 'metricsTokens', 100).map((x, i) =>
      str(x, `metricsTokens[${i}]`, { min: 16, max: 256, pattern: /^[\x21-\x7e]+$/, patternName: 'printable ASCII without spaces' }),
    );
  if (o.products !== undefined) c.products = checkProducts(o.products, 'products');
  if (o.limits !== undefined) c.limits = checkLimits(o.limits, 'limits', c.limits);
  if (o.uploadExpirationMs !== undefined) c.uploadExpirationMs = int(o.uploadExpirationMs, 'uploadExpirationMs', 1000);
  if (o.cleanupIntervalMs !== undefined) c.cleanupIntervalMs = int(o.cleanupIntervalMs, 'cleanupIntervalMs', 100);
  if (o.clockSkewThresholdMs !== undefined) c.clockSkewThresholdMs = int(o.clockSkewThresholdMs, 'clockSkewThresholdMs', 0);
  if (o.rateLimit !== undefined) c.rateLimit = { ...c.rateLimit, ...checkRate(o.rateLimit, 'rateLimit') };
  if (o.adminFailureLimit !== undefined) {
    const a = obj(o.adminFailureLimit, 'adminFailureLimit', ['perMinute', 'burst']);
    if (a.perMinute !== undefined) c.adminFailureLimit.perMinute = int(a.perMinute, 'adminFailureLimit.perMinute', 1);
    if (a.burst !== undefined) c.adminFailureLimit.burst = int(a.burst, 'adminFailureLimit.burst', 1);
  }
  if (o.email !== undefined) c.email = checkEmail(o.email, 'email');
  if (o.log !== undefined) {
    const l = obj(o.log, 'log', ['level', 'format', 'requests']);
    if (l.requests !== undefined) c.log.requests = bool(l.requests, 'log.requests');
    if (l.level !== undefined) c.log.level = oneOf(l.level, 'log.level', ['debug', 'info', 'warn', 'error'] as const);
    if (l.format !== undefined) c.log.format = oneOf(l.format, 'log.format', ['json', 'pretty'] as const);
  }
  if (o.shutdownTimeoutMs !== undefined) c.shutdownTimeoutMs = int(o.shutdownTimeoutMs, 'shutdownTimeoutMs', 0);
  if (o.viewer !== undefined) c.viewer = bool(o.viewer, 'viewer');
  if (o.retention !== undefined) {
    const r = obj(o.retention, 'retention', ['maxAgeDays', 'maxBytes', 'intervalMs']);
    c.retention = { ...c.retention, ...checkRetentionLimits({ maxAgeDays: r.maxAgeDays, maxBytes: r.maxBytes }, 'retention') };
    if (r.intervalMs !== undefined) c.retention.intervalMs = int(r.intervalMs, 'retention.intervalMs', 1000);
  }
  if (o.quota !== undefined) c.quota = { ...c.quota, ...checkQuota(o.quota, 'quota') };
  if (o.indexing !== undefined) c.indexing = bool(o.indexing, 'indexing');
  if (o.messageCacheBytes !== undefined) c.messageCacheBytes = int(o.messageCacheBytes, 'messageCacheBytes', 0);
  if (o.static !== undefined)
    c.static = arr(o.static, 'static', 20).map((x, i) => {
      const s = obj(x, `static[${i}]`, ['prefix', 'dir']);
      return {
        prefix: str(s.prefix, `static[${i}].prefix`, { min: 2, max: 200, pattern: /^\/[A-Za-z0-9._/-]*\/$/, patternName: 'a path like /demo/' }),
        dir: str(s.dir, `static[${i}].dir`, { min: 1, max: 4096 }),
      };
    });
  return c;
};

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/**
 * The config file (`--config <file>`, else `FERRY_CONFIG`, else `./ferry.config.json` when it
 * exists), then environment variables over it (docs/server.md lists them).
 */
export const loadConfig = (argv: readonly string[] = process.argv.slice(2), env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): CollectorConfig => {
  const flag = argv.indexOf('--config');
  const path = flag >= 0 ? argv[flag + 1] : (env.FERRY_CONFIG ?? (existsSync(resolve(cwd, 'ferry.config.json')) ? 'ferry.config.json' : undefined));
  let raw: Record<string, unknown> = {};
  if (path) {
    try {
      raw = JSON.parse(readFileSync(resolve(cwd, path), 'utf8')) as Record<string, unknown>;
    } catch (e) {
      throw new ConfigError(`cannot read config file ${path}: ${(e as Error).message}`);
    }
  }
  const over: Record<string, unknown> = { ...raw };
  const envJson = (name: string): unknown => {
    try {
      return JSON.parse(env[name] as string);
    } catch {
      throw new ConfigError(`${name} is not valid JSON`);
    }
  };
  if (env.FERRY_HOST) over.host = env.FERRY_HOST;
  if (env.FERRY_PORT) over.port = Number(env.FERRY_PORT);
  if (env.FERRY_PUBLIC_URL) over.publicUrl = env.FERRY_PUBLIC_URL;
  if (env.FERRY_TRUST_PROXY) over.trustProxy = env.FERRY_TRUST_PROXY === 'true' || env.FERRY_TRUST_PROXY === '1';
  if (env.FERRY_DATA_DIR) over.dataDir = env.FERRY_DATA_DIR;
  if (env.FERRY_DATABASE_URL)
    over.store = { kind: 'postgres', url: env.FERRY_DATABASE_URL, ...(env.FERRY_DB_POOL_SIZE ? { poolSize: Number(env.FERRY_DB_POOL_SIZE) } : {}) };
  if (env.FERRY_STORE === 'sqlite') over.store = { kind: 'sqlite' };
  if (env.FERRY_ADMIN_TOKEN)
    over.adminTokens = env.FERRY_ADMIN_TOKEN.split(',')
      .map((s) => s.trim())
      .filter(Boolean);
  if (env.FERRY_PRODUCTS) over.products = envJson('FERRY_PRODUCTS');
  if (env.FERRY_LIMITS) over.limits = envJson('FERRY_LIMITS');
  if (env.FERRY_EMAIL) over.email = envJson('FERRY_EMAIL');
  if (env.FERRY_LOG_LEVEL || env.FERRY_LOG_FORMAT)
    over.log = {
      ...(raw.log as object),
      ...(env.FERRY_LOG_LEVEL ? { level: env.FERRY_LOG_LEVEL } : {}),
      ...(env.FERRY_LOG_FORMAT ? { format: env.FERRY_LOG_FORMAT } : {}),
    };
  if (env.FERRY_UPLOAD_EXPIRATION_MS) over.uploadExpirationMs = Number(env.FERRY_UPLOAD_EXPIRATION_MS);
  if (env.FERRY_CLEANUP_INTERVAL_MS) over.cleanupIntervalMs = Number(env.FERRY_CLEANUP_INTERVAL_MS);
  let merged: Record<string, unknown>;
  try {
    // The general rule (config-env.ts) for every setting; FERRY_STORE=sqlite is the short form above.
    merged = applyEnv(CONFIG_SCHEMA, over, env, new Set(env.FERRY_STORE?.trim().startsWith('{') ? [] : ['FERRY_STORE']));
  } catch (e) {
    if (e instanceof EnvError) throw new ConfigError(e.message);
    throw e;
  }
  try {
    const c = parseConfig(merged);
    c.dataDir = resolve(cwd, c.dataDir);
    c.static = c.static.map((s) => ({ ...s, dir: resolve(cwd, s.dir) }));
    return c;
  } catch (e) {
    if (e instanceof FieldError) throw new ConfigError(`config ${path ?? '(defaults)'}: ${e.field}: ${e.reason}`);
    throw e;
  }
};
