import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { EXTRA_LIMITS } from '../../../src/shared/limits.js';
import { ADMIN_PATHS, COLLECTOR_VERSION_HEADER, type ErrorBody, PATHS, type StoredSession } from '../../../src/shared/protocol.js';
import { emptyLoss, type SessionSummary } from '../../../src/shared/summary.js';
import { AGENT_VERSION } from '../../../src/shared/version.js';
import { countsWith, makeSummary } from './fixtures.js';
import { APP_ORIGIN, KEYS, startTestCollector, type TestCollector } from './harness.js';

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

  const readSession = async (id: string): Promise<StoredSession> => {
    const res = await t.req(ADMIN_PATHS.session(id), { admin: true });
    assert.equal(res.status, 200, `the read API has session ${id}`);
    return (await res.json()) as StoredSession;
  };

  test('a newer agent’s summary (fields this collector does not know) is accepted, and the fields are kept and readable', async () => {
    const plain = makeSummary();
    const newer = {
      ...makeSummary(),
      color: 'blue',
      // Once an unknown example; the session context is known now, so another stands in for it.
      layout: { theme: 'dark', columns: 3 },
      dropped: { ...emptyLoss(), byQuota: 4 },
      counts: { ...countsWith({ error: 1 }), fatal: 2 },
    };
    const reply = await t.summaries([plain, newer as unknown as SessionSummary]);
    assert.deepEqual(
      reply.sessions.map((x) => x.detail),
      ['wanted', 'wanted'],
      'both decided as any summary',
    );
    const kept = await readSession(newer.id);
    assert.deepEqual(kept.extra, { color: 'blue', layout: { theme: 'dark', columns: 3 }, 'counts.fatal': 2, 'dropped.byQuota': 4 });
    assert.equal((kept.summary as unknown as Record<string, unknown>).color, undefined, 'the summary holds only the fields it knows');
    assert.equal(kept.summary.counts.error, 1);
    assert.equal((await readSession(plain.id)).extra, undefined, 'a summary without unknown fields has no extra');
  });

  test('unknown fields past the bound (32 fields, 4096 bytes) are dropped, never refused', async () => {
    const many: Record<string, unknown> = {};
    for (let i = 0; i < 40; i++) many[`f${String(i).padStart(2, '0')}`] = i;
    const wide = { ...makeSummary(), ...many };
    const big = { ...makeSummary(), huge: 'x'.repeat(5000), small: 'fits' };
    const reply = await t.summaries([wide, big] as unknown as SessionSummary[]);
    assert.equal(reply.sessions.length, 2);
    const w = await readSession(wide.id);
    assert.deepEqual(Object.keys(w.extra ?? {}), Object.keys(many).slice(0, EXTRA_LIMITS.maxFields), 'the first 32, in the order sent');
    const b = await readSession(big.id);
    assert.deepEqual(b.extra, { small: 'fits' }, 'a field too large for the bound is dropped; a later one that fits is kept');
    assert.ok(Buffer.byteLength(JSON.stringify(w.extra)) <= EXTRA_LIMITS.maxBytes);
    assert.ok(t.logs.some((l) => l.msg === 'unknown summary fields dropped over the bound' && l.dropped === 9));
  });

  test('a summary without any optional field (an older agent’s, to a collector that knows more) is accepted', async () => {
    const { endedAt: _e, ...bare } = makeSummary({ status: 'crashed' });
    const reply = await t.summaries([bare as SessionSummary]);
    assert.deepEqual(
      reply.sessions.map((x) => x.id),
      [bare.id],
    );
    const kept = await readSession(bare.id);
    assert.equal(kept.summary.endedAt, undefined);
    assert.equal(kept.summary.storageReset, undefined);
    assert.equal(kept.summary.force, undefined);
  });

  test('a field a newer agent adds to the request itself is ignored', async () => {
    const s = makeSummary();
    const res = await post(JSON.stringify({ product: 'demo', sentAt: Date.now(), sessions: [s], compression: 'none' }));
    assert.equal(res.status, 200);
    assert.ok(await t.collector.store.getSession(s.id));
  });

  test('a refused summary is named in the body’s field too, so the agent can set it aside alone', async () => {
    const good = makeSummary();
    const bad = { ...makeSummary(), status: 'exploded' };
    const res = await post(JSON.stringify({ product: 'demo', sentAt: Date.now(), sessions: [good, bad] }));
    assert.equal(res.status, 400);
    const body = (await res.json()) as ErrorBody;
    assert.equal(body.field, 'sessions[1].status');
    assert.match(body.detail, /^sessions\[1\]\.status: must be one of/);
    assert.equal(await t.collector.store.getSession(good.id), undefined, 'the whole request stores nothing');
  });

  test('names: "Acme Suite" is a product; a name with a control character, padding or 101 characters is refused', async () => {
    const acme = makeSummary({ product: 'Acme Suite', application: 'Éditeur 4', version: '4.2.0 beta' });
    const reply = await t.summaries([acme], { key: KEYS.acme });
    assert.deepEqual(
      reply.sessions.map((x) => x.detail),
      ['wanted'],
    );
    assert.equal((await readSession(acme.id)).summary.product, 'Acme Suite');
    const cases: [Partial<SessionSummary>, RegExp][] = [
      [{ application: 'Edit\nor' }, /sessions\[0\]\.application: must not contain control characters/],
      [{ version: ' 4.2' }, /sessions\[0\]\.version: must not begin or end with white space/],
      [{ application: 'a'.repeat(101) }, /sessions\[0\]\.application: must have at most 100 characters/],
      [{ version: '' }, /sessions\[0\]\.version: must not be empty/],
    ];
    for (const [over, detail] of cases) {
      const res = await post(JSON.stringify({ product: 'Acme Suite', sentAt: Date.now(), sessions: [makeSummary({ product: 'Acme Suite', ...over })] }), {
        key: KEYS.acme,
      });
      await expectError(res, 400, 'invalid-field', detail);
    }
    await expectError(
      await post(JSON.stringify({ product: 'Acme\tSuite', sentAt: Date.now(), sessions: [] }), { key: KEYS.acme }),
      400,
      'invalid-field',
      /^product: must not contain control characters/,
    );
  });

  test('every ingest reply names the collector version, refusals included, and CORS exposes it', async () => {
    const ok = await post(JSON.stringify({ product: 'demo', sentAt: Date.now(), sessions: [makeSummary()] }), {});
    assert.equal(ok.headers.get(COLLECTOR_VERSION_HEADER), AGENT_VERSION);
    const refused = await post('{}', { key: 'no-such-key-000' });
    assert.equal(refused.status, 401);
    assert.equal(refused.headers.get(COLLECTOR_VERSION_HEADER), AGENT_VERSION);
    const cors = await t.req(PATHS.summaries, {
      method: 'POST',
      key: KEYS.all,
      headers: { 'content-type': 'application/json', origin: APP_ORIGIN },
      body: JSON.stringify({ product: 'demo', sentAt: Date.now(), sessions: [] }),
    });
    assert.match(cors.headers.get('access-control-expose-headers') ?? '', new RegExp(COLLECTOR_VERSION_HEADER));
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
    // A user field this collector does not know (a newer agent's) is kept apart, as any unknown field.
    const withRole = makeSummary({ user: { id: 'u-4', role: 'admin' } as never });
    await t.summaries([withRole]);
    const keptRole = await t.collector.store.getSession(withRole.id);
    assert.deepEqual(keptRole?.summary.user, { id: 'u-4' });
    assert.deepEqual(keptRole?.extra, { 'user.role': 'admin' });
    const tooMany = Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, i]));
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ environment: 'prod eu' }, /^sessions\[0\]\.environment: must be 1–64 letters, digits or _ \. : -/],
      [{ environment: '' }, /^sessions\[0\]\.environment: must be 1–64/],
      [{ installationId: 'x'.repeat(65) }, /^sessions\[0\]\.installationId: must be 1–64/],
      [{ user: { name: 'no id' } }, /^sessions\[0\]\.user: id must be a non-empty string of at most 256/],
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
    const tooMany = await post(JSON.stringify({ product: 'demo', sentAt: 1, sessions: many }));
    assert.equal(tooMany.headers.get('content-type')?.startsWith('application/json'), true);
    const body = (await tooMany.clone().json()) as { field?: string };
    assert.equal(body.field, 'sessions', 'names sessions, so every agent version halves the batch');
    await expectError(tooMany, 413, 'too-large', /1001 summaries, the limit is 1000/);
    for (const s of many.slice(0, 3)) assert.equal(await t.collector.store.getSession(s.id), undefined, 'nothing stored');
    // Exactly at the limit is accepted.
    const exactly = await post(JSON.stringify({ product: 'demo', sentAt: Date.now(), sessions: many.slice(0, 1000) }));
    assert.equal(exactly.status, 200);
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
