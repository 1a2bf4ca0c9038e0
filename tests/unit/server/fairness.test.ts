/**
 * Rate limits under abuse of a public ingest key: each client (key + address) has its own
 * request and work budgets under a ceiling for the key; failed admin-token attempts are limited
 * per address; and with PostgreSQL the buckets are shared by every replica.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ADMIN_PATHS, PATHS } from '../../../src/shared/protocol.js';
import { startPostgres, type TestPostgres } from '../../support/postgres.js';
import { countsWith, makeDetail, makeMessages, makeSummary } from './fixtures.js';
import { ADMIN, createUpload, KEYS, startTestCollector, type TestCollector, uploadAll } from './harness.js';

const json = { 'content-type': 'application/json' };
const post = (t: TestCollector, from: string, key: string = KEYS.all, product = 'demo') =>
  t.req(PATHS.summaries, {
    method: 'POST',
    key,
    headers: { ...json, 'x-forwarded-for': `203.0.113.99, ${from}` },
    body: JSON.stringify({ product, sentAt: Date.now(), sessions: [makeSummary({ product })] }),
  });
const limitOf = (r: Response) => r.headers.get('x-ferry-limit');

const rateLimits = {
  trustProxy: true,
  rateLimit: { perMinute: 60, burst: 3, keyPerMinute: 60, keyBurst: 8, bytesPerMinute: 60_000, bytesBurst: 100_000 },
  adminFailureLimit: { perMinute: 1, burst: 3 },
};

describe('fair rate limits (one collector)', () => {
  let t: TestCollector;
  before(async () => {
    t = await startTestCollector({ over: rateLimits });
  });
  after(() => t?.close());

  test('a client over its burst gets 429 (rate-client); another client of the same key is still served', async () => {
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await post(t, '10.0.0.1')).status);
    assert.deepEqual(statuses, [200, 200, 200, 429]);
    const r = await post(t, '10.0.0.1');
    assert.equal(limitOf(r), 'rate-client');
    assert.equal(r.headers.get('retry-after'), '1');
    assert.equal((await post(t, '10.0.0.2')).status, 200, 'the next client has its own bucket');
    // The address is the one the proxy appended, not the client's own claim before it.
    assert.equal((await post(t, '10.0.0.1')).status, 429);
  });

  test('many clients together reach the key ceiling (rate-key); other keys are not affected', async () => {
    let limited: Response | undefined;
    for (let i = 0; i < 20 && !limited; i++) {
      const r = await post(t, `10.1.0.${i}`);
      if (r.status === 429) limited = r;
      else assert.equal(r.status, 200);
    }
    assert.ok(limited, 'the ceiling was reached');
    assert.equal(limitOf(limited), 'rate-key');
    assert.equal((await post(t, '10.1.0.200', KEYS.other, 'other')).status, 200);
  });

  test('failed admin-token attempts are limited per address; then even the right token waits there', async () => {
    const admin = (from: string, token: string) => t.req(ADMIN_PATHS.sessions, { headers: { authorization: `Bearer ${token}`, 'x-forwarded-for': from } });
    const wrong = 'wrong-admin-token-0000000000';
    assert.deepEqual(await Promise.all([1, 2, 3].map(async () => (await admin('10.3.0.1', wrong)).status)), [401, 401, 401]);
    const blocked = await admin('10.3.0.1', wrong);
    assert.equal(blocked.status, 429);
    assert.equal(limitOf(blocked), 'admin-failures');
    assert.equal((await admin('10.3.0.1', ADMIN)).status, 429, 'no more guesses from there, right or wrong');
    assert.equal((await admin('10.3.0.2', ADMIN)).status, 200, 'another address is not affected');
    assert.equal((await admin('10.3.0.2', ADMIN)).status, 200, 'successful requests use up nothing');
  });
});

describe('fair rate limits: work', () => {
  let t: TestCollector;
  before(async () => {
    // Requests plenty, bytes few: only the work budget can refuse here.
    t = await startTestCollector({ over: { ...rateLimits, rateLimit: { ...rateLimits.rateLimit, burst: 100, keyBurst: 1000 } } });
  });
  after(() => t?.close());

  test('work counts: a client that made the collector inflate more than its byte budget waits (rate-work)', async () => {
    const s = makeSummary({ product: 'errs', counts: countsWith({ error: 1 }) });
    const from = { 'x-forwarded-for': '10.2.0.1' };
    const first = await t.req(PATHS.summaries, {
      method: 'POST',
      key: KEYS.errors,
      headers: { ...json, ...from },
      body: JSON.stringify({ product: 'errs', sentAt: Date.now(), sessions: [s] }),
    });
    assert.equal(first.status, 200);
    const d = makeDetail(makeMessages(s.id, 2000, 'error', 200));
    assert.ok(d.ndjson.length > 2 * rateLimits.rateLimit.bytesBurst, 'the detail inflates to more than the budget');
    assert.ok(d.gz.length < rateLimits.rateLimit.bytesBurst, 'while its compressed bytes fit');
    const via = {
      req: (path: string, init: RequestInit & { key?: string } = {}) => t.req(path, { ...init, headers: { ...(init.headers as object), ...from } }),
    };
    const created = await createUpload(via, { sessionId: s.id, length: d.gz.length, sha256: d.sha256, product: 'errs', key: KEYS.errors });
    assert.equal(created.status, 201);
    const done = await uploadAll(via, created.headers.get('location') ?? '', d.gz, 1024 * 1024, 0, KEYS.errors);
    assert.equal(done.status, 204, 'the upload itself is served');
    const next = await post(t, '10.2.0.1', KEYS.errors, 'errs');
    assert.equal(next.status, 429);
    assert.equal(limitOf(next), 'rate-work');
    assert.ok(Number(next.headers.get('retry-after')) > 1, `waits for the debt to be repaid (${next.headers.get('retry-after')} s)`);
    assert.equal((await post(t, '10.2.0.2', KEYS.errors, 'errs')).status, 200, 'other clients are served');
  });
});

describe('rate limits shared by replicas through PostgreSQL', () => {
  let pg: TestPostgres;
  let a: TestCollector;
  let b: TestCollector;
  before(async () => {
    pg = await startPostgres();
    const over = { ...rateLimits, store: { kind: 'postgres', url: pg.url, poolSize: 3 } };
    a = await startTestCollector({ over });
    b = await startTestCollector({ over });
  });
  after(async () => {
    await a?.close();
    await b?.close();
    await pg?.stop();
  });

  test("a client's burst is spent across both replicas, and concurrent requests never overspend it", async () => {
    assert.equal((await post(a, '10.4.0.1')).status, 200);
    assert.equal((await post(b, '10.4.0.1')).status, 200);
    assert.equal((await post(a, '10.4.0.1')).status, 200);
    const r = await post(b, '10.4.0.1');
    assert.equal(r.status, 429);
    assert.equal(limitOf(r), 'rate-client');
    // Ten at once from a fresh address, half on each replica: exactly the burst of 3 gets through.
    const statuses = await Promise.all(Array.from({ length: 10 }, (_, i) => post(i % 2 ? a : b, '10.4.0.2').then((x) => x.status)));
    assert.equal(statuses.filter((s) => s === 200).length, 3, `statuses ${statuses}`);
  });

  test('failed admin attempts count on every replica', async () => {
    const admin = (t: TestCollector) =>
      t.req(ADMIN_PATHS.sessions, { headers: { authorization: 'Bearer wrong-admin-token-0000000000', 'x-forwarded-for': '10.5.0.1' } });
    assert.equal((await admin(a)).status, 401);
    assert.equal((await admin(b)).status, 401);
    assert.equal((await admin(a)).status, 401);
    assert.equal((await admin(b)).status, 429);
  });
});
