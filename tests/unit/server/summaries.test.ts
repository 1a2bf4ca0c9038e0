import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { PATHS } from '../../../src/shared/protocol.js';
import { countsWith, makeSummary } from './fixtures.js';
import { KEYS, startTestCollector, type TestCollector } from './harness.js';

describe('POST /sessions/summaries', () => {
  let t: TestCollector;
  before(async () => {
    t = await startTestCollector();
  });
  after(() => t.close());

  const quiet = () => makeSummary({ counts: countsWith({ information: 5, verbose: 2 }) });
  const warned = () => makeSummary({ counts: countsWith({ warning: 1, information: 5 }) });
  const failed = () => makeSummary({ counts: countsWith({ error: 1 }) });
  const critical = () => makeSummary({ counts: countsWith({ critical: 1 }) });

  const decide = async (key: string, product: string, sessions: ReturnType<typeof makeSummary>[]) => {
    const ss = sessions.map((s) => ({ ...s, product }));
    const reply = await t.summaries(ss, { key, product });
    assert.deepEqual(
      reply.sessions.map((x) => x.id),
      ss.map((s) => s.id),
      'one decision per session, in order',
    );
    return reply.sessions.map((x) => x.detail);
  };

  test('policy "all" wants every session', async () => {
    assert.deepEqual(await decide(KEYS.all, 'demo', [quiet(), warned(), failed()]), ['wanted', 'wanted', 'wanted']);
  });

  test('policy "error-or-worse" wants only sessions with an error or critical message', async () => {
    assert.deepEqual(await decide(KEYS.errors, 'errs', [quiet(), warned(), failed(), critical()]), ['not-wanted', 'not-wanted', 'wanted', 'wanted']);
  });

  test('policy "warning-or-worse" wants sessions with a warning or worse', async () => {
    assert.deepEqual(await decide(KEYS.warnings, 'warns', [quiet(), warned(), failed()]), ['not-wanted', 'wanted', 'wanted']);
  });

  test('policy "none" wants nothing, but still remembers the summaries', async () => {
    const s = [failed(), critical()];
    assert.deepEqual(await decide(KEYS.none, 'quiet', s), ['not-wanted', 'not-wanted']);
    const stored = await t.collector.store.getSession(s[0].id);
    assert.equal(stored?.summary.product, 'quiet');
  });

  test('force: true is wanted under every policy', async () => {
    const forced = { ...quiet(), force: true };
    assert.deepEqual(await decide(KEYS.none, 'quiet', [forced]), ['wanted']);
    assert.deepEqual(await decide(KEYS.errors, 'errs', [{ ...quiet(), force: true }]), ['wanted']);
  });

  test('re-sending a summary is idempotent', async () => {
    const s = failed();
    const a = await t.summaries([s]);
    const b = await t.summaries([s]);
    assert.deepEqual(a, b);
    const list = await t.collector.store.listSessions({ product: 'demo', limit: 500 });
    assert.equal(list.sessions.filter((x) => x.summary.id === s.id).length, 1);
  });

  test('an agent clock far off is corrected; a small difference is left alone', async () => {
    const now = Date.now();
    const skew = 3 * 3600_000; // agent clock 3 h behind
    const s = makeSummary({ startedAt: now - skew - 60_000, endedAt: now - skew - 1000 });
    await t.summaries([s], { sentAt: now - skew });
    const stored = await t.collector.store.getSession(s.id);
    assert.ok(stored);
    assert.ok(Math.abs(stored.clockOffsetMs - skew) < 5_000, `offset ${stored.clockOffsetMs}`);
    assert.ok(Math.abs(stored.startedAt - (now - 60_000)) < 5_000, 'start moved to the server clock');
    assert.equal(stored.summary.startedAt, s.startedAt, 'the summary as sent is kept');
    assert.ok(Math.abs((stored.sentAt ?? 0) - (now - skew)) < 1);

    const s2 = makeSummary();
    await t.summaries([s2], { sentAt: Date.now() - 2_000 });
    const stored2 = await t.collector.store.getSession(s2.id);
    assert.equal(stored2?.clockOffsetMs, 0);
    assert.equal(stored2?.startedAt, Math.round(s2.startedAt));
  });

  const post = (body: string, o: { key?: string; type?: string } = {}) =>
    t.req(PATHS.summaries, { method: 'POST', key: o.key ?? KEYS.all, headers: { 'content-type': o.type ?? 'application/json' }, body });

  const expectError = async (res: Response, status: number, error: string, detail?: RegExp) => {
    assert.equal(res.status, status);
    assert.match(res.headers.get('content-type') ?? '', /application\/json/);
    const body = (await res.json()) as { error: string; detail: string };
    assert.equal(body.error, error);
    if (detail) assert.match(body.detail, detail);
  };

  const countDemo = async () => (await t.collector.store.listSessions({ product: 'demo', limit: 500 })).sessions.length;

  test('malformed JSON is a 400 and stores nothing', async () => {
    const before = await countDemo();
    await expectError(await post('{"product":"demo","sessions":[{'), 400, 'malformed-json');
    assert.equal(await countDemo(), before);
  });

  test('a wrong Content-Type is a 415', async () => {
    await expectError(await post('{}', { type: 'text/plain' }), 415, 'unsupported-media-type');
  });

  test('an unknown field in a summary is a 400 naming it, and the whole request stores nothing', async () => {
    const good = makeSummary();
    const bad = { ...makeSummary(), color: 'blue' };
    const res = await post(JSON.stringify({ product: 'demo', sentAt: Date.now(), sessions: [good, bad] }));
    await expectError(res, 400, 'invalid-field', /^sessions\[1\]\.color: unknown field/);
    assert.equal(await t.collector.store.getSession(good.id), undefined);
  });

  test('wrong types are 400s naming the field', async () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ counts: { ...countsWith({}), error: -1 } }, /sessions\[0\]\.counts\.error: must be between 0/],
      [{ counts: { ...countsWith({}), error: 1.5 } }, /sessions\[0\]\.counts\.error: must be an integer/],
      [{ status: 'exploded' }, /sessions\[0\]\.status: must be one of running, ended, crashed/],
      [{ startedAt: '2025-01-01' }, /sessions\[0\]\.startedAt: must be a finite number/],
      [{ id: 'not-a-uuid' }, /sessions\[0\]\.id: must be a lowercase UUID/],
      [{ dropped: { beforeLog: 0 } }, /sessions\[0\]\.dropped\.overflow: must be an integer/],
      [{ force: 'yes' }, /sessions\[0\]\.force: must be true or false/],
      [{ userAgent: 'x'.repeat(2000) }, /sessions\[0\]\.userAgent: must have at most 1024/],
      [{ product: 'other' }, /sessions\[0\]\.product: must equal the request's product/],
    ];
    for (const [over, detail] of cases) {
      const res = await post(JSON.stringify({ product: 'demo', sentAt: Date.now(), sessions: [{ ...makeSummary(), ...over }] }));
      await expectError(res, 400, 'invalid-field', detail);
    }
    await expectError(await post(JSON.stringify({ product: 'demo', sessions: [] })), 400, 'invalid-field', /^sentAt:/);
    await expectError(await post(JSON.stringify({ product: 'demo', sentAt: 1, sessions: {} })), 400, 'invalid-field', /^sessions: must be an array/);
    await expectError(await post(JSON.stringify([1])), 400, 'invalid-field', /must be an object, got array/);
    const s = makeSummary();
    await expectError(await post(JSON.stringify({ product: 'demo', sentAt: 1, sessions: [s, s] })), 400, 'invalid-field', /appears twice/);
  });

  test('session context (environment, installation id, user, context tags) is kept as sent; bad values are 400s naming the field', async () => {
    const s = makeSummary({
      environment: 'production',
      installationId: 'c4f1e2d0-0b1a-4c3d-9e8f-001122334455',
      user: { id: 'u-1', name: 'Ada', email: 'ada@example.com' },
      context: { plan: 'pro', seats: 5, beta: true },
    });
    await t.summaries([s]);
    const stored = await t.collector.store.getSession(s.id);
    assert.deepEqual(
      {
        environment: stored?.summary.environment,
        installationId: stored?.summary.installationId,
        user: stored?.summary.user,
        context: stored?.summary.context,
      },
      { environment: s.environment, installationId: s.installationId, user: s.user, context: s.context },
    );
    const tooMany = Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, i]));
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ environment: 'prod eu' }, /^sessions\[0\]\.environment: must be 1–64 letters, digits or _ \. : -/],
      [{ environment: '' }, /^sessions\[0\]\.environment: must be 1–64/],
      [{ installationId: 'x'.repeat(65) }, /^sessions\[0\]\.installationId: must be 1–64/],
      [{ user: { name: 'no id' } }, /^sessions\[0\]\.user: id must be a non-empty string of at most 256/],
      [{ user: { id: 'u', role: 'admin' } }, /^sessions\[0\]\.user\.role: unknown field/],
      [{ user: 'u-1' }, /^sessions\[0\]\.user: must be an object/],
      [{ context: { 'bad key': 1 } }, /^sessions\[0\]\.context\.bad key: must be 1–64/],
      [{ context: { nested: { a: 1 } } }, /^sessions\[0\]\.context\.nested: must be a string, a finite number or a boolean/],
      [{ context: { long: 'x'.repeat(501) } }, /^sessions\[0\]\.context\.long: must have at most 500 characters/],
      [{ context: tooMany }, /^sessions\[0\]\.context: must have at most 50 keys/],
      [{ context: [] }, /^sessions\[0\]\.context: must be an object, got array/],
    ];
    for (const [over, detail] of cases) {
      const res = await post(JSON.stringify({ product: 'demo', sentAt: Date.now(), sessions: [{ ...makeSummary(), ...over }] }));
      await expectError(res, 400, 'invalid-field', detail);
    }
  });

  test('more than 1000 summaries, or a body over 1 MiB, is refused', async () => {
    const many = Array.from({ length: 1001 }, () => ({ ...makeSummary(), url: 'u', userAgent: 'a' }));
    await expectError(await post(JSON.stringify({ product: 'demo', sentAt: 1, sessions: many })), 400, 'invalid-field', /at most 1000/);
    const big = JSON.stringify({ product: 'demo', sentAt: 1, sessions: [{ ...makeSummary(), url: 'x'.repeat(1024 * 1024) }] });
    await expectError(await post(big), 413, 'too-large');
  });

  test('a summary for another product than the key’s is a 403', async () => {
    const s = makeSummary({ product: 'other' });
    const res = await post(JSON.stringify({ product: 'other', sentAt: 1, sessions: [s] }));
    await expectError(res, 403, 'product-mismatch');
    assert.equal(await t.collector.store.getSession(s.id), undefined);
  });

  test('GET on the summaries path is a JSON 405', async () => {
    const res = await t.req(PATHS.summaries, { key: KEYS.all });
    assert.equal(res.status, 405);
  });
});
