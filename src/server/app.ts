/** The collector's HTTP app: every route, its middleware, and the error format. */
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
import { emailHandler, packageHandler } from './ingest/packages.js';
import { summariesHandler } from './ingest/summaries.js';
import type { Uploads } from './ingest/uploads.js';
import type { Logger } from './log.js';
import { adminAuth, ingestAuth } from './middleware/auth.js';
import { ingestCors } from './middleware/cors.js';
import { lifecycle, type ServerState } from './middleware/lifecycle.js';
import { createRateLimiter, type RateLimiter, rateLimit } from './middleware/rate-limit.js';
import { publicOrigin } from './public-url.js';
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
      keys.set(k.key, { key: k.key, product, policy: p.policy, origins: k.origins, rateLimit: k.rateLimit ?? config.rateLimit });
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
  limiter?: RateLimiter;
  /** Reported in `Ferry-Collector-Version` on every ingest reply. @defaultValue the release's version */
  version?: string;
  /** The read API's decoded-session cache (shared with retention, which drops what it deletes). */
  messages?: MessageReader;
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

  app.onError((err, c) => {
    if (err instanceof ApiError) return err.getResponse();
    if (err instanceof HTTPException) return errorResponse(err.status as ContentfulStatusCode, 'bad-request', err.message || 'bad request');
    log.error('unhandled error', { method: c.req.method, path: c.req.path, err });
    return errorResponse(500, 'internal', 'internal error');
  });
  app.notFound((c) => errorResponse(404, 'not-found', `no route for ${c.req.method} ${c.req.path}`));

  app.use('*', lifecycle(d.state, log, config.log.requests));

  app.get('/health', async (c) => {
    if (d.state.draining) return c.json({ status: 'draining', store: store.kind }, 503);
    try {
      await store.ping();
    } catch {
      return c.json({ status: 'unavailable', store: store.kind }, 503);
    }
    return c.json({ status: 'ok', store: store.kind, time: now() });
  });

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
    rateLimit(d.limiter ?? createRateLimiter(now)),
  ] as const;
  for (const path of [PATHS.summaries, PATHS.uploads, `${PATHS.uploads}/:id`, PATHS.packages, PATHS.packagesEmail]) app.use(path, ...ingest);

  const pkg = { config, store, log, now, ...(d.mailer ? { mailer: d.mailer } : {}) };
  app.post(PATHS.summaries, summariesHandler({ config, store, uploads: d.uploads, now, log }));
  app.post(PATHS.packages, packageHandler(pkg));
  app.post(PATHS.packagesEmail, emailHandler(pkg));
  app.all(PATHS.uploads, (c) => d.uploads.handle(c));
  app.all(`${PATHS.uploads}/:id`, (c) => d.uploads.handle(c));
  // Any other method on an ingest path (GET summaries, …) gets a JSON 405 rather than a 404.
  for (const path of [PATHS.summaries, PATHS.packages, PATHS.packagesEmail]) {
    app.all(path, (c) => {
      throw new ApiError(405, 'bad-request', `${c.req.method} is not allowed here`, { Allow: 'POST, OPTIONS' });
    });
  }

  app.use(`${ADMIN_BASE}/*`, adminAuth({ tokens: config.adminTokens, isIngestKey: (t) => d.keys.has(t) }));
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
