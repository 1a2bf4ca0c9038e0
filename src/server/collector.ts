/**
 * Starts a collector: opens the store, builds the app, listens, runs the upload cleanup on a
 * schedule, and shuts down gracefully (stop accepting, finish in-flight requests and uploads,
 * then close the store). Used by `npm run server`, `npm start`, the tests and the benchmark.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import type { Hono } from 'hono';
import pg from 'pg';
import { adminTokenFromFile } from './admin-token.js';
import { buildKeys, createApp } from './app.js';
import type { CollectorConfig } from './config.js';
import { createMailer, type Mailer } from './email.js';
import type { AppEnv } from './env.js';
import { createUploads, type Uploads } from './ingest/uploads.js';
import { createLogger, type Logger } from './log.js';
import { createMetrics, timed } from './metrics.js';
import type { ServerState } from './middleware/lifecycle.js';
import { createMemoryRateStore } from './middleware/rate-limit.js';
import { createQuota } from './quota.js';
import { createMessageReader } from './read/messages.js';
import { runRetention } from './retention.js';
import { openStore, schemaVersion } from './store/open.js';
import { createPgLocker } from './store/pg-locker.js';
import { createPgRateStore } from './store/pg-rate-store.js';
import type { Store } from './store/types.js';
import { createIndexer, withIndexing } from './triage/indexer.js';

export interface Collector {
  /** `http://host:port` the collector listens on. */
  url: string;
  port: number;
  config: CollectorConfig;
  store: Store;
  app: Hono<AppEnv>;
  uploads: Uploads;
  /** Admin tokens in force (one is generated when the config has none). */
  adminTokens: readonly string[];
  /** Runs the upload cleanup now (it also runs every `cleanupIntervalMs`). */
  sweep(): Promise<void>;
  /** Runs retention now (it also runs at start-up and every `retention.intervalMs`). */
  retain(): Promise<void>;
  /** Resolves when the start-up work (index catch-up, first retention run) is done. */
  ready: Promise<void>;
  /** Resolves when every detail stored so far is indexed for groups and search. */
  indexed(): Promise<void>;
  /** Graceful shutdown; resolves when everything is closed. */
  close(): Promise<void>;
}

export interface CollectorOptions {
  log?: Logger;
  now?: () => number;
  mailer?: Mailer;
  /** Build everything but do not listen (tests drive `app.request()`). */
  listen?: boolean;
  /** The version the collector reports (tests of an upgraded collector). @defaultValue the release's version */
  version?: string;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export const startCollector = async (config: CollectorConfig, o: CollectorOptions = {}): Promise<Collector> => {
  const log = o.log ?? createLogger(config.log);
  const now = o.now ?? Date.now;
  if (config.adminTokens.length === 0) {
    // The token goes to a 0600 file, never to the log (admin-token.ts).
    const g = await adminTokenFromFile(config.dataDir);
    config = { ...config, adminTokens: [g.token] };
    log.warn(g.created ? 'no adminTokens configured; generated one, written to its file' : 'no adminTokens configured; using the one in its file', {
      adminTokenFile: g.file,
    });
  }
  if (Object.keys(config.products).length === 0) log.warn('no products configured: every ingest request will get 401');

  const metrics = createMetrics();
  const opened = await openStore(config.store, config.dataDir, config.blobs, { migrate: config.migrateOnStart });
  const indexer = createIndexer({ store: opened, maxBytes: config.limits.decompressedBytes, log });
  // Every detail stored is indexed for triage (groups, search) right after: triage/indexer.ts;
  // every store and blob operation is timed for /metrics.
  const store = timed(config.indexing ? withIndexing(opened, indexer) : opened, metrics, 'store');
  const messages = createMessageReader(store.blobs, config.limits.decompressedBytes, config.messageCacheBytes);
  const locker = config.store.kind === 'postgres' ? createPgLocker(config.store.url) : undefined;
  // Replicas on one database share their rate limits through it.
  const ratePool = config.store.kind === 'postgres' ? new pg.Pool({ connectionString: config.store.url, max: 4 }) : undefined;
  ratePool?.on('error', () => {});
  const rateStore = ratePool ? await createPgRateStore(ratePool) : createMemoryRateStore();
  const mailer = o.mailer ?? (config.email ? createMailer(config.email) : undefined);
  const keys = buildKeys(config);
  const state: ServerState = { inFlight: 0, draining: false };
  const quota = createQuota({ config, store, now });
  const uploads = createUploads({ config, store, log, now, keys, quota, ...(locker ? { locker } : {}) });
  const inFlight = { uploads: 0 };
  metrics.gauge('ferry_requests_in_flight', 'Requests being answered.', () => state.inFlight);
  metrics.gauge('ferry_uploads_in_flight', 'Upload PATCH requests receiving bytes.', () => inFlight.uploads);
  metrics.gauge('process_resident_memory_bytes', 'Resident memory of the collector process.', () => process.memoryUsage.rss());
  const startedAt = Date.now();
  metrics.gauge('ferry_uptime_seconds', 'Seconds since the collector started.', () => Math.round((Date.now() - startedAt) / 1000));
  const readiness = async (): Promise<Record<string, string>> => {
    const v = await schemaVersion(opened.db);
    if (v.current !== v.expected) throw new Error(`database schema is at version ${v.current}, this collector needs ${v.expected}: run migrate`);
    return { schema: String(v.current) };
  };
  const app = createApp({
    metrics,
    inFlight,
    ready: readiness,
    config,
    store,
    log,
    now,
    uploads,
    keys,
    state,
    messages,
    rateStore,
    quota,
    ...(mailer ? { mailer } : {}),
    ...(o.version ? { version: o.version } : {}),
  });

  let server: Server | undefined;
  let url = `http://${config.host}:${config.port}`;
  let port = config.port;
  if (o.listen !== false) {
    server = await new Promise<Server>((resolve, reject) => {
      const s = serve({ fetch: app.fetch, hostname: config.host, port: config.port }, () => resolve(s as Server)) as Server;
      s.once('error', reject);
    });
    // A slow client must not hold a connection forever, but a 256 KiB PATCH on a poor link needs time.
    server.requestTimeout = 5 * 60_000;
    server.headersTimeout = 60_000;
    server.keepAliveTimeout = 5_000;
    port = (server.address() as AddressInfo).port;
    const host = config.host.includes(':') ? `[${config.host}]` : config.host;
    url = `http://${host}:${port}`;
    log.info('listening', { url, store: store.kind, dataDir: config.dataDir, viewer: config.viewer ? `${url}/viewer/` : undefined });
  }

  const sweep = async (): Promise<void> => {
    try {
      await uploads.sweep();
    } catch (e) {
      log.error('upload cleanup failed', { err: e });
    }
    await rateStore.sweep(now()).catch((e: unknown) => log.error('rate limit cleanup failed', { err: e }));
  };
  const timer = setInterval(() => void sweep(), config.cleanupIntervalMs);
  timer.unref();

  let retaining: Promise<void> | undefined;
  const retain = (): Promise<void> =>
    (retaining ??= (async () => {
      try {
        await runRetention({ config, store, now, log, messages });
      } catch (e) {
        log.error('retention failed', { err: e });
      } finally {
        retaining = undefined;
      }
    })());
  const ready = (async () => {
    try {
      const n = config.indexing ? await indexer.catchUp() : 0;
      if (n > 0) log.info('indexed stored sessions', { sessions: n });
    } catch (e) {
      log.error('index catch-up failed', { err: e });
    }
    await retain();
  })();
  const retentionTimer = setInterval(() => void retain(), config.retention.intervalMs);
  retentionTimer.unref();

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> =>
    (closing ??= (async () => {
      state.draining = true;
      clearInterval(timer);
      clearInterval(retentionTimer);
      log.info('shutting down', { inFlight: state.inFlight });
      const closed = server ? new Promise<void>((r) => server!.close(() => r())) : Promise.resolve();
      server?.closeIdleConnections();
      const deadline = Date.now() + config.shutdownTimeoutMs;
      while (state.inFlight > 0 && Date.now() < deadline) await sleep(20);
      await uploads.idle();
      await indexer.stop();
      await ready;
      await retaining;
      if (state.inFlight > 0) log.warn('shutdown timeout: closing connections with requests in flight', { inFlight: state.inFlight });
      server?.closeAllConnections();
      await closed;
      await store.close();
      await locker?.close();
      await ratePool?.end();
      mailer?.close();
      log.info('stopped');
    })());

  return {
    url,
    port,
    config,
    store,
    app,
    uploads,
    adminTokens: config.adminTokens,
    sweep,
    retain,
    ready,
    indexed: async () => {
      await ready;
      await indexer.idle();
    },
    close,
  };
};
