/**
 * The collector as a process: durable before acknowledged (SIGKILL right after a success reply
 * loses nothing), resuming an upload across a restart, and a graceful shutdown that finishes an
 * upload in flight. Both stores.
 */

import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ADMIN_PATHS, PATHS, type StoredSession, TUS } from '../../../src/shared/protocol.js';
import { until } from '../../support/browser.js';
import { startPostgres, type TestPostgres } from '../../support/postgres.js';
import { makeDetail, makeMessages, makePackage, makeSummary, noisyMessages } from './fixtures.js';
import { ADMIN, createUpload, head, KEYS, patch, type TestCollector, tusHeaders, uploadAll } from './harness.js';
import { type CollectorProcess, spawnCollector } from './spawn.js';

type Req = Pick<TestCollector, 'req'>;

/** Protocol helpers against a collector process over its socket. */
const client = (p: CollectorProcess): Req => ({
  req: (path, init = {}) => {
    const { key, admin, ...rest } = init;
    const headers = new Headers(rest.headers);
    if (key !== undefined) headers.set('authorization', `Ferry ${key}`);
    if (admin) headers.set('authorization', `Bearer ${ADMIN}`);
    return fetch(path.startsWith('http') ? path : `${p.url}${path}`, { ...rest, headers, ...(rest.body ? { duplex: 'half' } : {}) } as RequestInit);
  },
});

const summaries = async (c: Req, sessions: ReturnType<typeof makeSummary>[]): Promise<void> => {
  const res = await c.req(PATHS.summaries, {
    method: 'POST',
    key: KEYS.all,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ product: 'demo', sentAt: Date.now(), sessions }),
  });
  assert.equal(res.status, 200);
};

const session = async (c: Req, id: string): Promise<StoredSession | undefined> => {
  const res = await c.req(ADMIN_PATHS.session(id), { admin: true });
  if (res.status === 404) return undefined;
  assert.equal(res.status, 200);
  return (await res.json()) as StoredSession;
};

const suite = (name: string, storeConfig: () => Record<string, unknown>): void => {
  describe(`collector process (${name})`, () => {
    let dir: string;
    const config = () => ({
      adminTokens: [ADMIN],
      products: { demo: { policy: 'all', keys: [{ key: KEYS.all, origins: ['*'] }] } },
      rateLimit: { perMinute: 100_000, burst: 10_000 },
      shutdownTimeoutMs: 20_000,
      ...storeConfig(),
    });
    before(() => {
      dir = mkdtempSync(join(tmpdir(), 'ferry-proc-'));
    });
    after(() => rmSync(dir, { recursive: true, force: true }));

    test('a confirmed upload survives SIGKILL right after the success reply', async () => {
      const p1 = await spawnCollector(dir, config());
      const s = makeSummary();
      const d = makeDetail(noisyMessages(s.id, 200, 400));
      try {
        const c = client(p1);
        await summaries(c, [s]);
        const created = await createUpload(c, { sessionId: s.id, length: d.gz.length, sha256: d.sha256 });
        assert.equal(created.status, 201);
        const last = await uploadAll(c, created.headers.get('location')!, d.gz, 32 * 1024);
        assert.equal(last.status, 204);
      } finally {
        // No grace: the process dies the moment the success reply is in.
        await p1.kill('SIGKILL');
      }
      const p2 = await spawnCollector(dir, config());
      try {
        const stored = await session(client(p2), s.id);
        assert.equal(stored?.detail?.sha256, d.sha256);
        assert.equal(stored?.detail?.messageCount, 200);
        const msgs = await client(p2).req(`${ADMIN_PATHS.messages(s.id)}?limit=5`, { admin: true });
        assert.equal(((await msgs.json()) as { total: number }).total, 200);
      } finally {
        await p2.kill('SIGKILL');
      }
    });

    test('an accepted package survives SIGKILL right after the success reply', async () => {
      const p1 = await spawnCollector(dir, config());
      const a = makeSummary();
      const b = makeSummary();
      try {
        const res = await client(p1).req(PATHS.packages, {
          method: 'POST',
          key: KEYS.all,
          headers: { 'content-type': 'application/zip' },
          body: makePackage([
            { summary: a, messages: makeMessages(a.id, 30) },
            { summary: b, messages: makeMessages(b.id, 40) },
          ]) as Uint8Array<ArrayBuffer>,
        });
        assert.equal(res.status, 200);
      } finally {
        await p1.kill('SIGKILL');
      }
      const p2 = await spawnCollector(dir, config());
      try {
        assert.equal((await session(client(p2), a.id))?.detail?.messageCount, 30);
        assert.equal((await session(client(p2), b.id))?.detail?.messageCount, 40);
      } finally {
        await p2.kill('SIGKILL');
      }
    });

    test('restarted mid-upload, the upload resumes from the stored offset', async () => {
      const s = makeSummary();
      const d = makeDetail(noisyMessages(s.id, 300, 600));
      const chunk = 40_000;
      let url: string;
      const p1 = await spawnCollector(dir, config());
      try {
        const c = client(p1);
        await summaries(c, [s]);
        const created = await createUpload(c, { sessionId: s.id, length: d.gz.length, sha256: d.sha256 });
        url = created.headers.get('location')!;
        for (let off = 0; off < 3 * chunk; off += chunk) assert.equal((await patch(c, url, off, d.gz.subarray(off, off + chunk))).status, 204);
      } finally {
        await p1.kill('SIGKILL');
      }
      const p2 = await spawnCollector(dir, config());
      try {
        const c = client(p2);
        // The port changed with the restart; the upload id did not.
        url = `${p2.url}${PATHS.uploads}/${url.split('/').pop()}`;
        const h = await head(c, url);
        assert.equal(h.status, 200);
        assert.equal(h.headers.get('upload-offset'), String(3 * chunk));
        const last = await uploadAll(c, url, d.gz, chunk, 3 * chunk);
        assert.equal(last.status, 204);
        assert.equal((await session(c, s.id))?.detail?.sha256, d.sha256);
      } finally {
        await p2.kill('SIGKILL');
      }
    });

    test('SIGTERM: the upload in flight finishes, new requests are refused, then the process exits', async () => {
      const s = makeSummary();
      const d = makeDetail(noisyMessages(s.id, 200, 600));
      const p1 = await spawnCollector(dir, config());
      const c = client(p1);
      await summaries(c, [s]);
      const created = await createUpload(c, { sessionId: s.id, length: d.gz.length, sha256: d.sha256 });
      const url = new URL(created.headers.get('location')!);
      // One PATCH of the whole blob, sent in two halves with the signal in between.
      const half = Math.floor(d.gz.length / 2);
      const done = new Promise<{ status: number; offset: string | undefined }>((resolve, reject) => {
        const r = request(
          {
            host: url.hostname,
            port: url.port,
            path: url.pathname,
            method: 'PATCH',
            headers: {
              ...tusHeaders({ 'upload-offset': '0', 'content-type': TUS.contentType }),
              authorization: `Ferry ${KEYS.all}`,
              'content-length': d.gz.length,
            },
          },
          (res) => {
            res.resume();
            res.on('end', () => resolve({ status: res.statusCode ?? 0, offset: res.headers['upload-offset'] as string | undefined }));
          },
        );
        r.on('error', reject);
        r.write(d.gz.subarray(0, half), () => {
          // Signal only once the collector is writing this upload: before its handler starts, the
          // connection is indistinguishable from an idle one, and a drain closes idle connections.
          const upload = join(dir, 'data', 'uploads', url.pathname.split('/').pop()!);
          void until(() => existsSync(upload) && statSync(upload).size > 0, 'the PATCH to be in progress').then(() => p1.child.kill('SIGTERM'), reject);
          // Wait until the collector reports it is draining, then send the rest.
          const wait = setInterval(() => {
            if (p1.logs.some((l) => l.msg === 'shutting down')) {
              clearInterval(wait);
              r.end(d.gz.subarray(half));
            }
          }, 10);
        });
      });
      await until(() => p1.logs.some((l) => l.msg === 'shutting down'), 'the collector to start draining');
      // New work is refused while draining: no new connections, and a 503 on a kept-alive one.
      const late = await fetch(`${p1.url}/health`).then(
        (r) => r.status,
        () => 'refused',
      );
      assert.ok(late === 'refused' || late === 503, `late request got ${late}`);
      const res = await done;
      assert.equal(res.status, 204);
      assert.equal(res.offset, String(d.gz.length));
      const exit = await p1.exited;
      assert.equal(exit.code, 0);
      assert.ok(p1.logs.some((l) => l.msg === 'stopped'));
      const p2 = await spawnCollector(dir, config());
      try {
        assert.equal((await session(client(p2), s.id))?.detail?.sha256, d.sha256);
      } finally {
        await p2.kill('SIGKILL');
      }
    });
  });
};

suite('embedded store', () => ({}));

let pg: TestPostgres | undefined;
let pgUrl = '';
before(async () => {
  pg = await startPostgres();
  pgUrl = pg.url;
});
after(async () => pg?.stop());
suite('PostgreSQL store', () => ({ store: { kind: 'postgres', url: pgUrl, poolSize: 4 } }));
