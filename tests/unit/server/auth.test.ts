import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ADMIN_PATHS, PATHS } from '../../../src/shared/protocol.js';
import { makeSummary } from './fixtures.js';
import { ADMIN, APP_ORIGIN, KEYS, startTestCollector, type TestCollector } from './harness.js';

const body = (s = makeSummary()) => JSON.stringify({ product: 'demo', sentAt: Date.now(), sessions: [s] });
const json = { 'content-type': 'application/json' };

describe('auth, CORS and rate limits', () => {
  let t: TestCollector;
  before(async () => {
    t = await startTestCollector({
      over: {
        products: {
          demo: { policy: 'all', keys: [{ key: KEYS.all, origins: [APP_ORIGIN, 'self'] }] },
          slow: { policy: 'all', keys: [{ key: 'key-slow-0001', origins: ['*'], rateLimit: { perMinute: 60, burst: 3 } }] },
        },
      },
    });
  });
  after(() => t.close());

  const errorOf = async (res: Response) => (await res.json()) as { error: string; detail: string };

  test('no key, a malformed header or an unknown key is a 401, and nothing is stored', async () => {
    const s = makeSummary();
    for (const authorization of [undefined, 'Ferry', 'Basic abc', `Bearer ${KEYS.all}`, 'Ferry not-a-key']) {
      const headers: Record<string, string> = { ...json };
      if (authorization) headers.authorization = authorization;
      const res = await t.req(PATHS.summaries, { method: 'POST', headers, body: body(s) });
      assert.equal(res.status, 401, String(authorization));
      assert.equal((await errorOf(res)).error, 'unauthorized');
      assert.equal(res.headers.get('www-authenticate'), 'Ferry');
    }
    assert.equal(await t.collector.store.getSession(s.id), undefined);
  });

  test('an origin the key does not list is a 403 that the browser can read', async () => {
    const s = makeSummary();
    const res = await t.req(PATHS.summaries, { method: 'POST', key: KEYS.all, headers: { ...json, origin: 'https://evil.example' }, body: body(s) });
    assert.equal(res.status, 403);
    assert.equal((await errorOf(res)).error, 'origin-not-allowed');
    assert.equal(res.headers.get('access-control-allow-origin'), 'https://evil.example');
    assert.equal(await t.collector.store.getSession(s.id), undefined);
  });

  test('a listed origin, the collector’s own origin ("self") and no origin at all are accepted', async () => {
    for (const origin of [APP_ORIGIN, 'http://localhost', undefined]) {
      const headers: Record<string, string> = { ...json };
      if (origin) headers.origin = origin;
      const res = await t.req(PATHS.summaries, { method: 'POST', key: KEYS.all, headers, body: body() });
      assert.equal(res.status, 200, String(origin));
      if (origin) {
        assert.equal(res.headers.get('access-control-allow-origin'), origin);
        const exposed = (res.headers.get('access-control-expose-headers') ?? '').toLowerCase();
        for (const h of ['retry-after', 'date', 'upload-offset', 'location']) assert.ok(exposed.includes(h), `exposes ${h}`);
        assert.match(res.headers.get('vary') ?? '', /Origin/);
      }
    }
  });

  test('preflights allow the headers tus and Ferry send', async () => {
    for (const path of [PATHS.summaries, PATHS.uploads, `${PATHS.uploads}/0123456789abcdef0123456789abcdef`, PATHS.packages]) {
      const res = await t.req(path, {
        method: 'OPTIONS',
        headers: { origin: APP_ORIGIN, 'access-control-request-method': 'PATCH', 'access-control-request-headers': 'authorization,upload-offset' },
      });
      assert.equal(res.status, 204, path);
      assert.equal(res.headers.get('access-control-allow-origin'), APP_ORIGIN);
      const allowed = (res.headers.get('access-control-allow-headers') ?? '').toLowerCase();
      for (const h of ['authorization', 'content-type', 'tus-resumable', 'upload-length', 'upload-metadata', 'upload-offset'])
        assert.ok(allowed.includes(h), h);
      assert.match(res.headers.get('access-control-allow-methods') ?? '', /PATCH/);
    }
  });

  test('tus responses also carry the CORS exposure', async () => {
    const res = await t.req(PATHS.uploads, { method: 'POST', key: KEYS.all, headers: { origin: APP_ORIGIN, 'tus-resumable': '1.0.0' } });
    assert.equal(res.status, 400);
    assert.equal(res.headers.get('access-control-allow-origin'), APP_ORIGIN);
    assert.match(res.headers.get('access-control-expose-headers') ?? '', /Upload-Offset/);
  });

  test('ingest keys cannot read; the read API needs the admin token', async () => {
    const a = await t.req(ADMIN_PATHS.sessions, { key: KEYS.all });
    assert.equal(a.status, 403);
    assert.equal((await errorOf(a)).error, 'forbidden');
    const b = await t.req(ADMIN_PATHS.sessions, { headers: { authorization: `Bearer ${KEYS.all}` } });
    assert.equal(b.status, 403);
    const c = await t.req(ADMIN_PATHS.sessions);
    assert.equal(c.status, 401);
    const d = await t.req(ADMIN_PATHS.sessions, { headers: { authorization: `Bearer ${ADMIN}x` } });
    assert.equal(d.status, 401);
    const e = await t.req(ADMIN_PATHS.sessions, { admin: true });
    assert.equal(e.status, 200);
    // The admin token is no ingest key.
    const f = await t.req(PATHS.summaries, { method: 'POST', headers: { ...json, authorization: `Ferry ${ADMIN}` }, body: body() });
    assert.equal(f.status, 401);
  });

  test('over the rate limit: 429 with Retry-After, and the key recovers', async () => {
    const post = () =>
      t.req(PATHS.summaries, {
        method: 'POST',
        key: 'key-slow-0001',
        headers: json,
        body: JSON.stringify({ product: 'slow', sentAt: Date.now(), sessions: [makeSummary({ product: 'slow' })] }),
      });
    const statuses: number[] = [];
    let limited: Response | undefined;
    for (let i = 0; i < 5; i++) {
      const r = await post();
      statuses.push(r.status);
      if (r.status === 429) limited ??= r;
    }
    assert.deepEqual(statuses.slice(0, 3), [200, 200, 200]);
    assert.ok(limited, `statuses ${statuses}`);
    assert.equal((await errorOf(limited)).error, 'too-many-requests');
    assert.equal(limited.headers.get('retry-after'), '1');
    // Other keys are not affected.
    const other = await t.req(PATHS.summaries, { method: 'POST', key: KEYS.all, headers: json, body: body() });
    assert.equal(other.status, 200);
  });

  test('health answers without auth', async () => {
    const res = await t.req('/health');
    assert.equal(res.status, 200);
    assert.equal(((await res.json()) as { status: string }).status, 'ok');
  });

  test('query strings and odd URLs on every route: a harmless query is ignored, an odd path is a JSON 404, nothing is a 5xx', async () => {
    // A query string changes nothing on the ingest routes.
    const s = makeSummary();
    const ok = await t.req(`${PATHS.summaries}?x=1&product=other`, { method: 'POST', key: KEYS.all, headers: json, body: body(s) });
    assert.equal(ok.status, 200);
    assert.equal((await t.collector.store.getSession(s.id))?.summary.product, 'demo', 'the query does not pick the product');
    const pkgQuery = await t.req(`${PATHS.packages}?x=1`, { method: 'POST', key: KEYS.all, headers: { 'content-type': 'text/plain' }, body: 'x' });
    assert.equal(pkgQuery.status, 415, 'the package route reads the query as nothing either: it gets to the body check');
    assert.equal((await t.req(`${PATHS.health}?x=1`)).status, 200);
    assert.equal((await t.req(`${ADMIN_PATHS.sessions}?x=1`, { admin: true })).status, 200, 'an unknown read-API parameter is ignored');

    const long = 'x'.repeat(20_000);
    const routes = [PATHS.summaries, PATHS.uploads, PATHS.packages, PATHS.packagesEmail, PATHS.health, ADMIN_PATHS.sessions, ADMIN_PATHS.counts];
    for (const r of routes) {
      const dir = r.slice(0, r.lastIndexOf('/'));
      const last = r.slice(r.lastIndexOf('/') + 1);
      const odd = [`${r}/`, `${dir}//${last}`, `/${r}`, dir ? `${dir}%2F${last}` : `/%2F${last}`, `${r}/${long}`, `${r}%00`, `${r}/..`];
      for (const u of odd) {
        for (const method of ['GET', 'POST', 'HEAD', 'PATCH']) {
          for (const auth of [{ key: KEYS.all }, { admin: true }]) {
            const res = await t.req(u, { method, ...auth, headers: json, ...(method === 'POST' || method === 'PATCH' ? { body: body() } : {}) });
            const what = `${method} ${u.slice(0, 80)}`;
            assert.ok(res.status < 500, `${what}: ${res.status}`);
            assert.notEqual(res.status, 200, `${what}: not served as ${r}`);
            if (method !== 'HEAD' && res.status === 404) {
              const e = await errorOf(res);
              assert.equal(e.error, 'not-found', what);
              assert.ok(e.detail.length <= 300, `${what}: the detail does not echo the whole path`);
            } else await res.body?.cancel();
          }
        }
      }
    }
  });

  test('a very long URL over the socket is refused by the HTTP server (431), and the collector keeps serving', async () => {
    const l = await startTestCollector({ listen: true });
    try {
      const res = await l.req(`${PATHS.summaries}?${'x'.repeat(20_000)}`, { method: 'POST', key: KEYS.all, headers: json, body: body() });
      assert.equal(res.status, 431);
      assert.equal((await l.req('/health')).status, 200);
    } finally {
      await l.close();
    }
  });

  test('unknown routes are JSON 404s', async () => {
    const res = await t.req('/api/v1/nothing');
    assert.equal(res.status, 404);
    assert.equal((await errorOf(res)).error, 'not-found');
  });
});
