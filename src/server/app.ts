/** The collector's HTTP app: every route, its middleware, and the error format. */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Context, Hono, type Next } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { ADMIN_AUTH_SCHEME, ADMIN_BASE, COLLECTOR_VERSION_HEADER, PATHS } from '../shared/protocol.js';
// Agent and collector are released together under one version number.
import { AGENT_VERSION } from '../shared/version.js';
import type { CollectorConfig } from './config.js';
import type { Mailer } from './email.js';
import type { AppEnv, IngestKey } from './env.js';
import { ApiError, errorResponse } from './errors.js';
import { createPackageSlots, emailHandler, packageHandler } from './ingest/packages.js';
import { summariesHandler } from './ingest/summaries.js';
import type { Uploads } from './ingest/uploads.js';
import type { Logger } from './log.js';
import { createMetrics, type Metrics } from './metrics.js';
import { adminAuth, ingestAuth } from './middleware/auth.js';
import { ingestCors } from './middleware/cors.js';
import { lifecycle, type ServerState } from './middleware/lifecycle.js';
import { countRequests } from './middleware/metrics.js';
import { adminGuard, createMemoryRateStore, type RateStore, rateLimit } from './middleware/rate-limit.js';
import { sweepSpool } from './package/spool.js';
import { publicOrigin } from './public-url.js';
import type { Quota } from './quota.js';
import { createMessageReader, type MessageReader } from './read/messages.js';
import { readRoutes } from './read/routes.js';
import { triageRoutes } from './read/triage-routes.js';
import { serveDir } from './static.js';
import type { Store } from './store/types.js';
import { mountViewerAssets } from './viewer-assets.js';

export const VIEWER_DIR = fileURLToPath(new URL('./viewer/', import.meta.url));

/** Every ingest key of the config, resolved with its product's policy and the default rate limit. */
export const buildKeys = (config: CollectorConfig): Map<string, IngestKey> => {
  const keys = new Map<string, IngestKey>();
  for (const [product, p] of Object.entries(config.products)) {
    for (const k of p.keys) {
      keys.set(k.key, { key: k.key, product, policy: p.policy, origins: k.origins, rateLimit: { ...config.rateLimit, ...k.rateLimit } });
    }
  }
  return keys;
};

export interface AppDeps {
  config: CollectorConfig;
  store: Store;
  log: Logger;
  now: () => number;
  uploads: Uploads;
  keys: ReadonlyMap<string, IngestKey>;
  state: ServerState;
  mailer?: Mailer;
  /** Where rate-limit buckets live (PostgreSQL for replicas). @defaultValue this process's memory */
  rateStore?: RateStore;
  /** Reported in `Ferry-Collector-Version` on every ingest reply. @defaultValue the release's version */
  version?: string;
  /** The read API's decoded-session cache (shared with retention, which drops what it deletes). */
  messages?: MessageReader;
  metrics?: Metrics;
  /** Requests writing upload bytes right now (a gauge of `metrics`). */
  inFlight?: { uploads: number };
  /** Per-product disk quotas: a package is refused (507) once its product's stored bytes are used up. */
  quota?: Quota;
  /** Readiness checks beyond the store's ping (schema version, blob storage); throws with the reason. */
  ready?: () => Promise<Record<string, string>>;
}

const INGEST_METHODS = ['GET', 'POST', 'HEAD', 'PATCH', 'OPTIONS'];
const INGEST_ALLOW_HEADERS = [
  'Authorization',
  'Content-Type',
  'Tus-Resumable',
  'Upload-Length',
  'Upload-Metadata',
  'Upload-Offset',
  'Upload-Checksum',
  'X-Requested-With',
  'X-HTTP-Method-Override',
];
const INGEST_EXPOSE_HEADERS = [
  'Retry-After',
  // What a Retry-After date is read against (a page's own clock may be wrong).
  'Date',
  COLLECTOR_VERSION_HEADER,
  'Upload-Offset',
  'Location',
  'Upload-Length',
  'Upload-Expires',
  'Upload-Metadata',
  'Tus-Resumable',
  'Tus-Version',
  'Tus-Extension',
  'Tus-Max-Size',
];

export const createApp = (d: AppDeps): Hono<AppEnv> => {
  const { config, store, log, now } = d;
  const app = new Hono<AppEnv>();
  // One rate store for the ingest limits and the admin guard.
  const rateOptions = {
    store: d.rateStore ?? createMemoryRateStore(),
    now,
    trustProxy: config.trustProxy,
    onError: (err: unknown) => log.error('rate limit store failed', { err }),
  };

  app.onError((err, c) => {
    if (err instanceof ApiError) return err.getResponse();
    if (err instanceof HTTPException) return errorResponse(err.status as ContentfulStatusCode, 'bad-request', err.message || 'bad request');
    log.error('unhandled error', { method: c.req.method, path: c.req.path, err });
    return errorResponse(500, 'internal', 'internal error');
  });
  // The path is the client's: echoed only in part, so a 16 KiB URL does not come back whole.
  app.notFound((c) => errorResponse(404, 'not-found', `no route for ${c.req.method.slice(0, 16)} ${c.req.path.slice(0, 200)}`));

  app.use('*', lifecycle(d.state, log, config.log.requests));
  const metrics = d.metrics ?? createMetrics();
  app.use('*', countRequests(metrics, d.inFlight ?? { uploads: 0 }));

  app.get('/health', async (c) => {
    if (d.state.draining) return c.json({ status: 'draining', store: store.kind }, 503);
    try {
      await store.ping();
    } catch {
      return c.json({ status: 'unavailable', store: store.kind }, 503);
    }
    return c.json({ status: 'ok', store: store.kind, time: now() });
  });

  // Ready: the store answers, its schema is this collector's, the blob storage answers. Load
  // balancers send traffic only to ready replicas; /health above stays the liveness check.
  app.get('/ready', async (c) => {
    if (d.state.draining) return c.json({ status: 'draining' }, 503);
    try {
      await store.ping();
      await store.blobs.ping();
      const checks = (await d.ready?.()) ?? {};
      return c.json({ status: 'ready', store: store.kind, blobs: store.blobs.kind, ...checks });
    } catch (e) {
      return c.json({ status: 'not-ready', store: store.kind, blobs: store.blobs.kind, reason: (e as Error).message.slice(0, 300) }, 503);
    }
  });

  const metricsAuth = adminAuth({
    tokens: [...config.adminTokens, ...config.metricsTokens],
    isIngestKey: (t) => d.keys.has(t),
    guard: adminGuard({ ...rateOptions, ...config.adminFailureLimit }),
  });
  app.get('/metrics', metricsAuth, (c) =>
    c.body(metrics.render(), 200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8', 'cache-control': 'no-store' }),
  );

  const version = d.version ?? AGENT_VERSION;
  const ingest = [
    // First, so that every reply carries it, refusals included.
    async (c: Context, next: Next) => {
      await next();
      try {
        c.res.headers.set(COLLECTOR_VERSION_HEADER, version);
      } catch {
        // Immutable headers (a Response from elsewhere): copy it first.
        const res = new Response(c.res.body, c.res);
        res.headers.set(COLLECTOR_VERSION_HEADER, version);
        c.res = res;
      }
    },
    ingestCors({ methods: INGEST_METHODS, allowHeaders: INGEST_ALLOW_HEADERS, exposeHeaders: INGEST_EXPOSE_HEADERS }),
    ingestAuth({ keys: d.keys, selfOrigin: (req) => publicOrigin(req, config) }),
    rateLimit(rateOptions),
  ] as const;
  for (const path of [PATHS.summaries, PATHS.uploads, `${PATHS.uploads}/:id`, PATHS.packages, PATHS.packagesEmail]) app.use(path, ...ingest);

  // A package's sessions are checked against the stored quota once read and before anything of
  // them is written (storePackage writes the blobs first); the declared body, below, refuses a
  // package that cannot fit before it is read at all.
  const quota = d.quota;
  const packageStore: Store = quota
    ? {
        ...store,
        async storePackage(p, sessions) {
          const bytes = sessions.reduce((n, s) => n + s.detail.compressedBytes + JSON.stringify(s.session.summary).length, 0);
          await quota.checkStored(p.product, bytes);
          return store.storePackage(p, sessions);
        },
      }
    : store;
  // Package bodies are spooled here, a folder per request; what a crash left behind goes (in the background).
  const spoolRoot = join(config.dataDir, 'package-spool');
  void sweepSpool(spoolRoot).catch((e: unknown) => log.warn('package spool sweep failed', { err: e }));
  const pkg = {
    config,
    store: packageStore,
    log,
    now,
    spoolRoot,
    slots: createPackageSlots(config.limits.concurrentPackages),
    ...(d.mailer ? { mailer: d.mailer } : {}),
  };
  app.post(PATHS.summaries, summariesHandler({ config, store, uploads: d.uploads, now, log }));
  app.post(
    PATHS.packages,
    async (c, next) => {
      // The declared body is about the package's compressed size, what storing it adds.
      const declared = Number(c.req.header('content-length'));
      await d.quota?.checkStored(c.get('ingest').product, Number.isSafeInteger(declared) && declared > 0 ? declared : 0);
      await next();
    },
    packageHandler(pkg),
  );
  app.post(PATHS.packagesEmail, emailHandler(pkg));
  app.all(PATHS.uploads, (c) => d.uploads.handle(c));
  app.all(`${PATHS.uploads}/:id`, (c) => d.uploads.handle(c));
  // Any other method on an ingest path (GET summaries, …) gets a JSON 405 rather than a 404.
  for (const path of [PATHS.summaries, PATHS.packages, PATHS.packagesEmail]) {
    app.all(path, (c) => {
      throw new ApiError(405, 'bad-request', `${c.req.method} is not allowed here`, { Allow: 'POST, OPTIONS' });
    });
  }

  app.use(
    `${ADMIN_BASE}/*`,
    adminAuth({
      tokens: config.adminTokens,
      isIngestKey: (t) => d.keys.has(t),
      guard: adminGuard({ ...rateOptions, ...config.adminFailureLimit }),
    }),
  );
  const messages = d.messages ?? createMessageReader(store.blobs, config.limits.decompressedBytes, config.messageCacheBytes);
  app.route(ADMIN_BASE, readRoutes({ store, now, messages }));
  app.route(ADMIN_BASE, triageRoutes({ store, now, messages, config, log }));

  const mount = (prefix: string, dir: string, headers: Record<string, string> = {}): void => {
    const bare = prefix.slice(0, -1);
    app.get(bare, (c) => c.redirect(prefix, 301));
    const serve = serveDir(prefix, dir);
    app.get(`${prefix}*`, async (c) => {
      const res = await serve(c);
      for (const [k, v] of Object.entries(headers)) res.headers.set(k, v);
      return res;
    });
  };
  if (config.viewer) {
    // The viewer is plain JS served as is: it takes the read API's place and auth scheme from
    // here, so they are defined once, in src/shared/protocol.ts.
    app.get('/viewer/protocol.js', (c) =>
      c.body(`export const ADMIN_BASE = ${JSON.stringify(ADMIN_BASE)};\nexport const ADMIN_AUTH_SCHEME = ${JSON.stringify(ADMIN_AUTH_SCHEME)};\n`, 200, {
        'content-type': 'text/javascript; charset=utf-8',
        'cache-control': 'no-cache',
        'x-content-type-options': 'nosniff',
      }),
    );
    const viewerHeaders = {
      'content-security-policy': "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'",
      'referrer-policy': 'no-referrer',
    };
    mountViewerAssets(app, viewerHeaders);
    mount('/viewer/', VIEWER_DIR, viewerHeaders);
    app.get('/', (c) => c.redirect('/viewer/', 302));
  }
  for (const s of config.static) mount(s.prefix, s.dir);

  return app;
};
