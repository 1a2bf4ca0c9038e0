/** A collector for tests: its own data dir, a memory logger, and helpers speaking the protocol. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Collector, startCollector } from '../../../src/server/collector.js';
import { type CollectorConfig, parseConfig } from '../../../src/server/config.js';
import type { Mailer } from '../../../src/server/email.js';
import { createMemoryLogger } from '../../../src/server/log.js';
import { PATHS, type SummariesReply, TUS } from '../../../src/shared/protocol.js';
import type { SessionSummary } from '../../../src/shared/summary.js';

export const ADMIN = 'admin-token-for-tests-0001';
export const KEYS = {
  all: 'key-all-0001',
  errors: 'key-errors-0001',
  warnings: 'key-warnings-0001',
  none: 'key-none-0001',
  other: 'key-other-0001',
  acme: 'key-acme-suite-0001',
} as const;
export const APP_ORIGIN = 'https://app.example.com';

export const baseConfig = (dataDir: string, over: Record<string, unknown> = {}): CollectorConfig =>
  parseConfig({
    port: 0,
    dataDir,
    adminTokens: [ADMIN],
    log: { level: 'debug' },
    rateLimit: { perMinute: 100_000, burst: 10_000 },
    products: {
      demo: { policy: 'all', keys: [{ key: KEYS.all, origins: [APP_ORIGIN, 'self'] }] },
      errs: { policy: 'error-or-worse', keys: [{ key: KEYS.errors, origins: ['*'] }] },
      warns: { policy: 'warning-or-worse', keys: [{ key: KEYS.warnings, origins: ['*'] }] },
      quiet: { policy: 'none', keys: [{ key: KEYS.none, origins: ['*'] }] },
      other: { policy: 'all', keys: [{ key: KEYS.other, origins: ['*'] }] },
      // A product name as people write them, with a space (docs/getting-started.md).
      'Acme Suite': { policy: 'all', keys: [{ key: KEYS.acme, origins: ['*'] }] },
    },
    ...over,
  });

export interface TestCollector {
  collector: Collector;
  dir: string;
  logs: ReturnType<typeof createMemoryLogger>['records'];
  /** In-process request (no socket). */
  req(path: string, init?: RequestInit & { key?: string; admin?: boolean }): Promise<Response>;
  summaries(sessions: SessionSummary[], o?: { key?: string; product?: string; sentAt?: number }): Promise<SummariesReply>;
  close(): Promise<void>;
}

export const startTestCollector = async (
  o: { over?: Record<string, unknown>; listen?: boolean; mailer?: Mailer; now?: () => number; dir?: string; version?: string } = {},
): Promise<TestCollector> => {
  const dir = o.dir ?? mkdtempSync(join(tmpdir(), 'ferry-collector-'));
  const log = createMemoryLogger();
  const collector = await startCollector(baseConfig(dir, o.over), {
    log,
    listen: o.listen ?? false,
    ...(o.mailer ? { mailer: o.mailer } : {}),
    ...(o.now ? { now: o.now } : {}),
    ...(o.version ? { version: o.version } : {}),
  });
  const base = o.listen ? collector.url : 'http://localhost';
  const req: TestCollector['req'] = (path, init = {}) => {
    const { key, admin, ...rest } = init;
    const headers = new Headers(rest.headers);
    if (key !== undefined) headers.set('authorization', `Ferry ${key}`);
    if (admin) headers.set('authorization', `Bearer ${ADMIN}`);
    const url = path.startsWith('http') ? path : `${base}${path}`;
    const r = new Request(url, { ...rest, headers, ...(rest.body ? { duplex: 'half' } : {}) } as RequestInit);
    return o.listen ? fetch(r) : Promise.resolve(collector.app.fetch(r));
  };
  return {
    collector,
    dir,
    logs: log.records,
    req,
    async summaries(sessions, so = {}) {
      const res = await req(PATHS.summaries, {
        method: 'POST',
        key: so.key ?? KEYS.all,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ product: so.product ?? sessions[0]?.product ?? 'demo', sentAt: so.sentAt ?? Date.now(), sessions }),
      });
      if (res.status !== 200) throw new Error(`summaries: ${res.status} ${await res.text()}`);
      return (await res.json()) as SummariesReply;
    },
    async close() {
      await collector.close();
      if (!o.dir) rmSync(dir, { recursive: true, force: true });
    },
  };
};

export const tusMetadata = (m: Record<string, string>): string =>
  Object.entries(m)
    .map(([k, v]) => `${k} ${Buffer.from(v).toString('base64')}`)
    .join(',');

export const tusHeaders = (h: Record<string, string> = {}): Record<string, string> => ({ 'tus-resumable': TUS.version, ...h });

/** POST /uploads; returns the response (Location holds the upload URL). */
export const createUpload = (
  t: Pick<TestCollector, 'req'>,
  o: { sessionId: string; length: number; sha256: string; product?: string; key?: string; extra?: Record<string, string> },
): Promise<Response> =>
  t.req(PATHS.uploads, {
    method: 'POST',
    key: o.key ?? KEYS.all,
    headers: tusHeaders({
      'upload-length': String(o.length),
      'upload-metadata': tusMetadata({ sessionId: o.sessionId, product: o.product ?? 'demo', sha256: o.sha256, ...o.extra }),
    }),
  });

export const patch = (t: Pick<TestCollector, 'req'>, url: string, offset: number, chunk: Uint8Array, key: string = KEYS.all): Promise<Response> =>
  t.req(url, {
    method: 'PATCH',
    key,
    headers: tusHeaders({ 'upload-offset': String(offset), 'content-type': TUS.contentType }),
    body: chunk as Uint8Array<ArrayBuffer>,
  });

export const head = (t: Pick<TestCollector, 'req'>, url: string, key: string = KEYS.all): Promise<Response> =>
  t.req(url, { method: 'HEAD', key, headers: tusHeaders() });

/** Uploads a whole blob in chunks; returns the final PATCH response. */
export const uploadAll = async (
  t: Pick<TestCollector, 'req'>,
  url: string,
  blob: Uint8Array,
  chunk = 64 * 1024,
  from = 0,
  key: string = KEYS.all,
): Promise<Response> => {
  let offset = from;
  let last: Response | undefined;
  while (offset < blob.length) {
    const part = blob.subarray(offset, Math.min(blob.length, offset + chunk));
    last = await patch(t, url, offset, part, key);
    if (last.status !== 204) return last;
    offset = Number(last.headers.get('upload-offset'));
  }
  if (!last) throw new Error('nothing to upload');
  return last;
};
