import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import type { LogMessage } from '../../../src/shared/message.js';
import { ADMIN_PATHS, type CountsReply, type MessagesReply, type SessionListReply, type StoredSession } from '../../../src/shared/protocol.js';
import { countsWith, makeDetail, makeSummary } from './fixtures.js';
import { createUpload, startTestCollector, type TestCollector, uploadAll } from './harness.js';

describe('read API (viewer)', () => {
  let t: TestCollector;
  const t0 = Date.UTC(2025, 2, 1, 12);
  const ids: string[] = [];
  let messages: LogMessage[] = [];
  let skewed = '';

  before(async () => {
    t = await startTestCollector();
    const sessions = [
      makeSummary({ application: 'editor', version: '1.0', startedAt: t0, counts: countsWith({ information: 3 }) }),
      makeSummary({ application: 'editor', version: '2.0', startedAt: t0 + 60_000, status: 'crashed', counts: countsWith({ error: 1 }) }),
      makeSummary({ application: 'viewer', version: '1.0', startedAt: t0 + 120_000, counts: countsWith({ warning: 2 }) }),
    ];
    ids.push(...sessions.map((s) => s.id));
    await t.summaries(sessions, { sentAt: Date.now() });
    // Detail for the crashed session, with a clock 2 h behind.
    const s = sessions[1];
    messages = Array.from({ length: 30 }, (_, i) => ({
      sessionId: s.id,
      seq: i + 1,
      time: t0 + 60_000 + i,
      severity: i === 20 ? 'error' : i % 3 === 0 ? 'warning' : 'verbose',
      category: i % 2 ? 'net' : 'ui',
      text: i === 20 ? 'TypeError: cannot read properties of undefined' : `step ${i}`,
      ...(i === 20 ? { exception: { name: 'TypeError', message: 'boom' } } : {}),
    }));
    const d = makeDetail(messages);
    const created = await createUpload(t, { sessionId: s.id, length: d.gz.length, sha256: d.sha256 });
    assert.equal((await uploadAll(t, created.headers.get('location')!, d.gz)).status, 204);
    const sk = makeSummary({ application: 'skew', startedAt: Date.now() - 2 * 3600_000 });
    skewed = sk.id;
    await t.summaries([sk], { sentAt: Date.now() - 2 * 3600_000 });
  });
  after(() => t.close());

  const get = async <T>(path: string): Promise<T> => {
    const res = await t.req(path, { admin: true });
    assert.equal(res.status, 200, `${path}: ${await res.clone().text()}`);
    return (await res.json()) as T;
  };
  const list = async (q: string) => (await get<SessionListReply>(`${ADMIN_PATHS.sessions}?product=demo&${q}`)).sessions.map((s) => s.summary.id);

  test('list sessions with filters', async () => {
    assert.deepEqual(await list(`from=${t0}&to=${t0 + 3600_000}`), [ids[2], ids[1], ids[0]], 'newest first');
    assert.deepEqual(await list(`from=${t0}&to=${t0 + 3600_000}&application=editor`), [ids[1], ids[0]]);
    assert.deepEqual(await list(`from=${t0}&to=${t0 + 3600_000}&version=1.0`), [ids[2], ids[0]]);
    assert.deepEqual(await list(`from=${t0}&to=${t0 + 3600_000}&status=crashed`), [ids[1]]);
    assert.deepEqual(await list(`from=${t0}&to=${t0 + 3600_000}&minSeverity=warning`), [ids[2], ids[1]]);
    assert.deepEqual(await list(`from=${t0}&to=${t0 + 3600_000}&detail=yes`), [ids[1]]);
    assert.deepEqual(await list(`from=${t0 + 60_000}&to=${t0 + 120_000}`), [ids[1]]);
  });

  test('list sessions is paginated with a cursor', async () => {
    const q = `${ADMIN_PATHS.sessions}?product=demo&from=${t0}&to=${t0 + 3600_000}&limit=2`;
    const p1 = await get<SessionListReply>(q);
    assert.equal(p1.sessions.length, 2);
    assert.ok(p1.next);
    const p2 = await get<SessionListReply>(`${q}&cursor=${p1.next}`);
    assert.deepEqual(
      p2.sessions.map((s) => s.summary.id),
      [ids[0]],
    );
    assert.equal(p2.next, undefined);
  });

  test('bad query parameters are 400s naming the parameter', async () => {
    for (const [q, re] of [
      ['status=weird', /status/],
      ['minSeverity=fatal', /minSeverity/],
      ['limit=0', /limit/],
      ['from=yesterday', /from/],
      ['cursor=abc', /cursor/],
      ['detail=maybe', /detail/],
    ] as const) {
      const res = await t.req(`${ADMIN_PATHS.sessions}?${q}`, { admin: true });
      assert.equal(res.status, 400, q);
      assert.match(((await res.json()) as { detail: string }).detail, re);
    }
  });

  test('sessions filtered by environment, user, installation and context.<key>=<value>', async () => {
    const t1 = Date.UTC(2025, 3, 1);
    const sessions = [
      makeSummary({
        startedAt: t1,
        environment: 'production',
        installationId: 'inst-a',
        user: { id: 'user@example.com' },
        context: { plan: 'pro', beta: true },
      }),
      makeSummary({ startedAt: t1 + 1, environment: 'production', installationId: 'inst-b', user: { id: 'u-2' }, context: { plan: 'free' } }),
      makeSummary({
        startedAt: t1 + 2,
        environment: 'staging',
        installationId: 'inst-a',
        user: { id: 'user@example.com' },
        context: { plan: 'pro', 'team.size': 12 },
      }),
    ];
    await t.summaries(sessions, { sentAt: Date.now() });
    const [a, b, c] = sessions.map((s) => s.id);
    const range = `from=${t1}&to=${t1 + 1000}`;
    assert.deepEqual(await list(`${range}&environment=production`), [b, a]);
    assert.deepEqual(await list(`${range}&user=${encodeURIComponent('user@example.com')}`), [c, a]);
    assert.deepEqual(await list(`${range}&installation=inst-a`), [c, a]);
    assert.deepEqual(await list(`${range}&context.plan=pro`), [c, a]);
    assert.deepEqual(await list(`${range}&context.plan=pro&context.beta=true`), [a]);
    assert.deepEqual(await list(`${range}&context.team.size=12`), [c], 'a key may hold dots; the number matches as text');
    assert.deepEqual(await list(`${range}&environment=production&context.plan=free`), [b]);
    assert.deepEqual(await list(`${range}&context.plan=enterprise`), []);
    const counts = await get<CountsReply>(
      `${ADMIN_PATHS.counts}?product=demo&from=${t1}&to=${t1 + 60_000}&bucket=minute&environment=production&context.plan=pro`,
    );
    assert.equal(counts.buckets[0].sessions, 1, 'the counts take the same filters');
  });

  test('bad session-context filters are 400s naming the parameter', async () => {
    const eleven = Array.from({ length: 11 }, (_, i) => `context.k${i}=1`).join('&');
    for (const [q, re] of [
      ['environment=prod%20eu', /^query parameter environment: must be 1–64 letters/],
      ['installation=a%2Fb', /^query parameter installation: must be 1–64/],
      [`user=${'u'.repeat(257)}`, /^query parameter user: must have at most 256 characters/],
      ['context.bad%20key=1', /^query parameter context\.bad key: the key must be 1–64/],
      ['context.=1', /^query parameter context\.: the key must be 1–64/],
      ['context.plan=a&context.plan=b', /^query parameter context\.plan: is given more than once/],
      [`context.plan=${'x'.repeat(501)}`, /^query parameter context\.plan: must have at most 500 characters/],
      [eleven, /^query parameter context\.\*: at most 10 context filters/],
    ] as const) {
      for (const path of [ADMIN_PATHS.sessions, ADMIN_PATHS.counts]) {
        const res = await t.req(`${path}?${q}`, { admin: true });
        assert.equal(res.status, 400, `${path}?${q.slice(0, 60)}`);
        const body = (await res.json()) as { error: string; detail: string };
        assert.equal(body.error, 'invalid-field');
        assert.match(body.detail, re);
      }
    }
  });

  test('one session, corrected for clock skew', async () => {
    const s = await get<StoredSession>(ADMIN_PATHS.session(skewed));
    assert.ok(Math.abs(s.clockOffsetMs - 2 * 3600_000) < 5000);
    assert.ok(Math.abs(s.startedAt - Date.now()) < 10_000, 'start on the server clock');
    assert.equal((await t.req(ADMIN_PATHS.session('019a0000-0000-7000-8000-00000000dead'), { admin: true })).status, 404);
    assert.equal((await t.req(ADMIN_PATHS.session('../etc'), { admin: true })).status, 404);
  });

  test('a session’s messages: in seq order, paginated, filtered by severity and text', async () => {
    const all = await get<MessagesReply>(`${ADMIN_PATHS.messages(ids[1])}?limit=12`);
    assert.equal(all.total, 30);
    assert.deepEqual(
      all.messages.map((m) => m.seq),
      Array.from({ length: 12 }, (_, i) => i + 1),
    );
    assert.equal(all.next, 12);
    const p2 = await get<MessagesReply>(`${ADMIN_PATHS.messages(ids[1])}?limit=12&afterSeq=${all.next}`);
    assert.equal(p2.messages[0].seq, 13);
    const p3 = await get<MessagesReply>(`${ADMIN_PATHS.messages(ids[1])}?limit=12&afterSeq=${p2.next}`);
    assert.equal(p3.messages.length, 6);
    assert.equal(p3.next, undefined);
    assert.equal(all.messages[0].correctedTime, messages[0].time + all.clockOffsetMs);

    const warn = await get<MessagesReply>(`${ADMIN_PATHS.messages(ids[1])}?minSeverity=warning`);
    assert.equal(warn.total, messages.filter((m) => m.severity !== 'verbose').length);
    assert.ok(warn.messages.every((m) => m.severity !== 'verbose'));
    const text = await get<MessagesReply>(`${ADMIN_PATHS.messages(ids[1])}?q=${encodeURIComponent('typeerror')}`);
    assert.deepEqual(
      text.messages.map((m) => m.seq),
      [21],
    );
    assert.deepEqual(text.messages[0].exception, { name: 'TypeError', message: 'boom' });
    const none = await t.req(ADMIN_PATHS.messages(ids[0]), { admin: true });
    assert.equal(none.status, 404, 'no detail received for this one');
  });

  test('the raw detail can be downloaded', async () => {
    const res = await t.req(`${ADMIN_PATHS.session(ids[1])}/detail`, { admin: true });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'application/gzip');
    const text = gunzipSync(Buffer.from(await res.arrayBuffer())).toString();
    assert.equal(text.split('\n').filter(Boolean).length, 30);
  });

  test('counts over time for charts', async () => {
    const c = await get<CountsReply>(`${ADMIN_PATHS.counts}?product=demo&from=${t0}&to=${t0 + 180_000}&bucket=minute`);
    assert.equal(c.bucketMs, 60_000);
    assert.deepEqual(
      c.buckets.map((b) => [b.sessions, b.crashed, b.counts.error, b.counts.warning, b.counts.information]),
      // The crashed session's summary claimed 1 error; once its detail is stored, the counts are
      // its lines' (1 error, 10 warnings, 19 verbose).
      [
        [1, 0, 0, 0, 3],
        [1, 1, 1, 10, 0],
        [1, 0, 0, 2, 0],
      ],
    );
    const bad = await t.req(`${ADMIN_PATHS.counts}?from=0&to=${Date.now()}&bucket=minute`, { admin: true });
    assert.equal(bad.status, 400, 'too many buckets');
  });
});
