// sendPass in Node: the real core code over fake-indexeddb (the only fake), against the real
// collector listening on 127.0.0.1 (tests/unit/server/harness.ts).
import '../../../support/indexeddb.js';
import assert from 'node:assert/strict';
import { createServer, type Socket } from 'node:net';
import { after, afterEach, before, beforeEach, describe, test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { createSchema } from '../../../../src/core/db/createSchema.js';
import { getDelivery } from '../../../../src/core/db/delivery.js';
import { bundledMigrations } from '../../../../src/core/db/migrations.js';
import { type FerryDatabase, openProductDb } from '../../../../src/core/db/open.js';
import { type PassResult, type SendDeps, sendPass } from '../../../../src/core/send/pass.js';
import { SUMMARY_LIMITS } from '../../../../src/shared/limits.js';
import { liveLockName, uploadLockName } from '../../../../src/shared/names.js';
import { COLLECTOR_VERSION_HEADER, LIMITS, PATHS } from '../../../../src/shared/protocol.js';
import { AGENT_VERSION } from '../../../../src/shared/version.js';
import { freshIndexedDB } from '../../../support/indexeddb.js';
import { FakeLocks } from '../../../support/locks.js';
import { chunksOf, compressor, growSession, recordingFetch, seedSession } from '../../../support/sending.js';
import { KEYS, startTestCollector, type TestCollector } from '../../server/harness.js';

describe('sendPass against the collector', () => {
  let t: TestCollector;
  const open: FerryDatabase[] = [];
  before(async () => {
    t = await startTestCollector({ listen: true });
  });
  after(() => t.close());
  beforeEach(() => freshIndexedDB());
  afterEach(() => {
    for (const db of open.splice(0)) db.close();
  });

  const openDb = async (product = 'demo'): Promise<FerryDatabase> => {
    const r = await openProductDb(product, { create: createSchema, migrations: bundledMigrations });
    assert.ok(r, `opened ferry:${product}`);
    open.push(r.db);
    return r.db;
  };

  const deps = (db: FerryDatabase, over: Partial<SendDeps> = {}): SendDeps => ({
    db,
    target: { url: t.collector.url, ingestKey: KEYS.all },
    product: 'demo',
    purge: false,
    compress: compressor(db),
    locks: new FakeLocks(),
    // Small chunks, so every detail goes up in several PATCHes.
    chunkSize: 4096,
    ...over,
  });

  const storedCount = (id: string): number => t.logs.filter((l) => l.msg === 'detail stored' && l.session === id).length;
  /** The NDJSON the collector keeps for a session (its stored gzip blob, unpacked). */
  const storedText = async (id: string): Promise<string> => {
    const s = await t.collector.store.getSession(id);
    assert.ok(s?.detail, `the collector holds the detail of ${id}`);
    const gz = await t.collector.store.blobs.read(s.detail.sha256);
    assert.ok(gz, 'its blob is stored');
    return gunzipSync(gz).toString('utf8');
  };
  const localText = async (db: FerryDatabase, id: string): Promise<string> => (await chunksOf(db, id)).map((c) => c.text).join('');
  /** Rejects when `p` has not settled in `ms` (a bound, never a sleep that the test waits out). */
  const within = <T>(p: Promise<T>, ms: number, what: string): Promise<T> => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const bound = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms)));
    return Promise.race([p, bound]).finally(() => clearTimeout(timer));
  };
  const isSummaries = (r: { path: string }) => r.path === PATHS.summaries;

  test('an ended session is summarised, uploaded and marked sent with the outbox emptied; a second pass makes no request', async () => {
    const db = await openDb();
    const s = await seedSession(db, { messages: 300 });
    const f = recordingFetch();
    const r = await sendPass(deps(db, { fetch: f.fetch }));

    assert.deepEqual(r, { sent: [s.id], declined: [], parked: [], busy: [], remaining: 0 });
    const row = await getDelivery(db, s.id);
    assert.equal(row?.detailState, 'sent');
    assert.equal(row?.sentSeq, s.lastSeq);
    assert.equal(row?.summaryStatus, 'ended');
    assert.equal(row?.summarySeq, s.lastSeq);
    assert.equal(row?.lastOp, 'upload-confirmed');
    assert.equal(row?.parked, undefined);
    assert.equal(await db.count('outbox'), 0, 'the outbox is emptied once the upload is confirmed');
    assert.equal(await db.count('sessions'), 1, 'without purge the session is kept');

    assert.deepEqual(
      f.requests.filter(isSummaries).map((x) => x.summaries),
      [[s.id]],
    );
    const uploads = f.uploadsOf(s.id);
    assert.equal(uploads[0].method, 'POST');
    assert.ok(uploads.length > 2, `several PATCHes (${uploads.length - 1})`);
    assert.ok(uploads.every((u) => u.status < 300));
    assert.equal(f.requests.length, 1 + uploads.length, 'one summaries request, then the upload');

    const stored = await t.collector.store.getSession(s.id);
    assert.equal(stored?.summary.status, 'ended');
    assert.equal(stored?.detail?.messageCount, 300);
    assert.equal(stored?.detail?.lastSeq, s.lastSeq);
    assert.equal(await storedText(s.id), await localText(db, s.id), 'the collector holds exactly the stored NDJSON');
    assert.equal(storedCount(s.id), 1);

    const again = await sendPass(deps(db, { fetch: f.fetch }));
    assert.deepEqual(again, { sent: [], declined: [], parked: [], busy: [], remaining: 0 });
    assert.equal(f.requests.length, 1 + uploads.length, 'the second pass makes no request');
    assert.deepEqual(await getDelivery(db, s.id), row, 'and changes nothing');
  });

  test('policy "none": the session is not wanted, nothing is uploaded, and it is kept locally', async () => {
    const db = await openDb('quiet');
    const s = await seedSession(db, { product: 'quiet', severity: 'critical' });
    const f = recordingFetch();
    const r = await sendPass(deps(db, { product: 'quiet', target: { url: t.collector.url, ingestKey: KEYS.none }, fetch: f.fetch }));

    assert.deepEqual(r, { sent: [], declined: [s.id], parked: [], busy: [], remaining: 0 });
    const row = await getDelivery(db, s.id);
    assert.equal(row?.detailState, 'not-wanted');
    assert.equal(row?.summaryStatus, 'ended');
    assert.equal(row?.summarySeq, s.lastSeq);
    assert.equal(row?.sentSeq, undefined);
    assert.equal(await db.count('outbox'), 0);
    assert.deepEqual(
      f.requests.map((x) => x.path),
      [PATHS.summaries],
      'the summaries request only',
    );
    const stored = await t.collector.store.getSession(s.id);
    assert.equal(stored?.summary.id, s.id, 'the collector keeps the summary');
    assert.equal(stored?.detail, undefined, 'and no detail');
    assert.ok(await db.get('sessions', s.id), 'kept without purge');
    assert.equal((await chunksOf(db, s.id)).length, 1);

    const again = await sendPass(deps(db, { product: 'quiet', target: { url: t.collector.url, ingestKey: KEYS.none }, fetch: f.fetch }));
    assert.equal(f.requests.length, 1, 'a declined session is settled: no request later');
    assert.equal(again.remaining, 0);
  });

  test('policy "none" with purge: the declined session is deleted locally (session, chunks, delivery row); a running one is kept', async () => {
    const db = await openDb('quiet');
    const locks = new FakeLocks();
    const s = await seedSession(db, { product: 'quiet' });
    // Declined too (sent as it stands after an error), but its tab still writes it.
    const live = await seedSession(db, { product: 'quiet', status: 'running' });
    const release = await locks.hold(liveLockName(live.id));
    const r = await sendPass(
      deps(db, { product: 'quiet', target: { url: t.collector.url, ingestKey: KEYS.none }, purge: true, locks, includeRunning: new Set([live.id]) }),
    );

    assert.deepEqual(r.declined.sort(), [s.id, live.id].sort());
    assert.equal(await db.get('sessions', s.id), undefined);
    assert.deepEqual(await chunksOf(db, s.id), []);
    assert.equal(await getDelivery(db, s.id), undefined);
    assert.equal(await db.get('outbox', s.id), undefined);
    assert.ok((await t.collector.store.getSession(s.id))?.summary, 'the collector has its summary');

    assert.equal((await db.get('sessions', live.id))?.status, 'running', 'a running session is never purged under its writer');
    assert.equal((await chunksOf(db, live.id)).length, 1);
    assert.equal((await getDelivery(db, live.id))?.detailState, 'not-wanted');
    release();
  });

  test('a running session asked for is sent as it stands (partial); once it has ended and grown it is summarised again and sent whole', async () => {
    const db = await openDb();
    const locks = new FakeLocks();
    const s = await seedSession(db, { status: 'running', messages: 120 });
    // Its tab is alive: crash marking must leave it running.
    const release = await locks.hold(liveLockName(s.id));
    const f = recordingFetch();

    const first = await sendPass(deps(db, { locks, fetch: f.fetch, includeRunning: new Set([s.id]) }));
    assert.deepEqual(first, { sent: [], declined: [], parked: [], busy: [], remaining: 0 }, 'a partial send is not counted as sent');
    let row = await getDelivery(db, s.id);
    assert.equal(row?.detailState, 'partial');
    assert.equal(row?.sentSeq, 120);
    assert.equal(row?.summaryStatus, 'running');
    assert.equal(row?.summarySeq, 120);
    assert.equal((await db.get('sessions', s.id))?.status, 'running');
    assert.equal(await db.count('outbox'), 0);
    let stored = await t.collector.store.getSession(s.id);
    assert.equal(stored?.summary.status, 'running');
    assert.equal(stored?.detail?.messageCount, 120);

    const afterPartial = f.requests.length;
    const quiet = await sendPass(deps(db, { locks, fetch: f.fetch }));
    assert.equal(quiet.remaining, 0);
    assert.equal(f.requests.length, afterPartial, 'while it runs and nobody asks, nothing is sent');

    const grown = await growSession(db, s.id, 80, { end: true });
    release();
    const second = await sendPass(deps(db, { locks, fetch: f.fetch }));
    assert.deepEqual(second, { sent: [s.id], declined: [], parked: [], busy: [], remaining: 0 });
    row = await getDelivery(db, s.id);
    assert.equal(row?.detailState, 'sent');
    assert.equal(row?.sentSeq, grown.lastSeq);
    assert.equal(row?.summaryStatus, 'ended');
    assert.equal(row?.summarySeq, 200);
    const later = f.requests.slice(afterPartial);
    assert.deepEqual(
      later.filter(isSummaries).map((x) => x.summaries),
      [[s.id]],
      'summarised again',
    );
    assert.equal(f.uploadsOf(s.id).filter((u) => u.method === 'POST').length, 2, 'a new upload for the whole session');
    stored = await t.collector.store.getSession(s.id);
    assert.equal(stored?.summary.status, 'ended');
    assert.equal(stored?.summary.lastSeq, 200);
    assert.equal(stored?.detail?.messageCount, 200, 'the complete copy replaced the partial one');
    assert.equal(stored?.detail?.lastSeq, 200);
    assert.equal(await storedText(s.id), await localText(db, s.id));
    assert.equal(storedCount(s.id), 2);
  });

  test('upload once: two passes on one database at the same time (tab and service worker) store each detail exactly once', async () => {
    const db = await openDb();
    const locks = new FakeLocks();
    const sessions = [];
    for (let i = 0; i < 3; i++) sessions.push(await seedSession(db, { messages: 200, startedAt: Date.now() - 60_000 + i }));
    const [first] = sessions;
    // Whichever pass uploads the first session first holds its first PATCH until the other has
    // been turned away from the session's upload lock: the two passes certainly overlap.
    let gated = false;
    const overlap = async (r: { method: string; sessionId?: string }): Promise<undefined> => {
      if (r.method !== 'PATCH' || r.sessionId !== first.id || gated) return undefined;
      gated = true;
      await within(locks.whenRefused(uploadLockName(first.id)), 10_000, 'the other pass to be refused the upload lock');
      return undefined;
    };
    const tab = recordingFetch({ intercept: overlap });
    const sw = recordingFetch({ intercept: overlap });
    const [a, b] = await Promise.all([sendPass(deps(db, { locks, fetch: tab.fetch })), sendPass(deps(db, { locks, fetch: sw.fetch }))]);

    assert.equal([...a.busy, ...b.busy].filter((id) => id === first.id).length, 1, 'one pass found the first session locked by the other');
    assert.equal(a.failure, undefined);
    assert.equal(b.failure, undefined);
    const sent = [...a.sent, ...b.sent].sort();
    assert.deepEqual(sent, sessions.map((s) => s.id).sort(), 'every session is sent by exactly one of the two');
    for (const s of sessions) {
      assert.equal(storedCount(s.id), 1, `detail of ${s.id} stored once`);
      const creations = [...tab.uploadsOf(s.id), ...sw.uploadsOf(s.id)].filter((u) => u.method === 'POST');
      assert.equal(creations.length, 1, `one upload created for ${s.id}`);
      const row = await getDelivery(db, s.id);
      assert.equal(row?.detailState, 'sent');
      assert.equal(row?.sentSeq, s.lastSeq);
      assert.equal(row?.summarySeq, s.lastSeq);
      assert.equal(row?.parked, undefined);
      assert.equal(await storedText(s.id), await localText(db, s.id));
    }
    assert.equal(await db.count('outbox'), 0);
    const n = tab.requests.length + sw.requests.length;
    const third = await sendPass(deps(db, { locks, fetch: sw.fetch }));
    assert.deepEqual(third, { sent: [], declined: [], parked: [], busy: [], remaining: 0 });
    assert.equal(tab.requests.length + sw.requests.length, n, 'nothing left to send');
  });

  test('a summary refused with a 400 parks the session with the reason; later passes skip it', async () => {
    const db = await openDb();
    const s = await seedSession(db, { record: { version: 'v'.repeat(101) } });
    const f = recordingFetch();
    const r = await sendPass(deps(db, { fetch: f.fetch }));

    assert.equal(r.parked.length, 1);
    assert.equal(r.parked[0].id, s.id);
    assert.match(r.parked[0].reason, /answered 400: invalid-field — sessions\[0\]\.version/);
    assert.deepEqual([r.sent, r.declined, r.busy, r.remaining, r.failure], [[], [], [], 0, undefined]);
    const row = await getDelivery(db, s.id);
    assert.equal(row?.parked, r.parked[0].reason);
    assert.equal(row?.parkedStatus, 400);
    assert.equal(row?.parkedVersion, AGENT_VERSION, 'recorded with the agent version, so another version tries it again');
    assert.equal(row?.parkedCollector, AGENT_VERSION, 'and with the collector version its reply named');
    assert.equal(row?.lastOp, 'summary-refused');
    assert.equal(row?.summarySentAt, undefined);
    assert.equal(row?.detailState, undefined);
    assert.equal(await t.collector.store.getSession(s.id), undefined);

    const again = await sendPass(deps(db, { fetch: f.fetch }));
    assert.equal(f.requests.length, 1, 'no request for a parked session');
    assert.deepEqual(again.parked, []);
    assert.deepEqual(await getDelivery(db, s.id), row);
  });

  test('a 503 is a retryable failure that marks nothing; the next pass sends', async () => {
    const db = await openDb();
    const s = await seedSession(db);
    const f = recordingFetch({
      intercept: (_r, n) =>
        n === 0 ? new Response(JSON.stringify({ error: 'unavailable', detail: 'try later' }), { status: 503, headers: { 'retry-after': '7' } }) : undefined,
    });
    const r = await sendPass(deps(db, { fetch: f.fetch }));

    assert.ok(r.failure, 'the pass reports the failure');
    assert.equal(r.failure.retryable, true);
    assert.equal(r.failure.status, 503);
    assert.equal(r.failure.retryAfterMs, 7000);
    assert.deepEqual([r.sent, r.declined, r.parked, r.busy, r.remaining], [[], [], [], [], 1]);
    assert.equal(await getDelivery(db, s.id), undefined, 'no delivery row: nothing is marked');
    assert.equal(await db.count('outbox'), 0);
    assert.deepEqual(
      f.requests.map((x) => [x.path, x.status]),
      [[PATHS.summaries, 503]],
      'the pass stopped at the failure',
    );

    const next = await sendPass(deps(db, { fetch: f.fetch }));
    assert.deepEqual(next.sent, [s.id]);
    assert.equal((await getDelivery(db, s.id))?.detailState, 'sent');
  });

  test('allowed() turning false mid-pass stops the pass before its next request', async () => {
    const db = await openDb();
    const a = await seedSession(db);
    const b = await seedSession(db);
    let consent = true;
    const asked: boolean[] = [];
    // Consent is withdrawn (in another tab) while the summaries request is out.
    const f = recordingFetch({
      intercept: (r) => {
        if (r.path === PATHS.summaries) consent = false;
        return undefined;
      },
    });
    const r = await sendPass(
      deps(db, {
        fetch: f.fetch,
        allowed: () => {
          asked.push(consent);
          return consent;
        },
      }),
    );

    assert.equal(r.stopped, true);
    assert.equal(r.failure, undefined);
    assert.deepEqual(r.sent, []);
    assert.deepEqual(asked, [true, false], 'asked before the summaries, then before the first upload');
    assert.deepEqual(
      f.requests.map((x) => x.path),
      [PATHS.summaries],
      'no request after consent was withdrawn',
    );
    for (const s of [a, b]) assert.equal((await getDelivery(db, s.id))?.detailState, 'wanted', 'the reply was recorded; nothing more');
    assert.equal(await db.count('outbox'), 0, 'nothing compressed');
    assert.equal(r.remaining, 2);
  });

  test('a running session whose live lock nobody holds is marked crashed by step 1 and sent as crashed', async () => {
    const db = await openDb();
    const locks = new FakeLocks();
    const dead = await seedSession(db, { status: 'running', messages: 50 });
    const alive = await seedSession(db, { status: 'running', messages: 10 });
    const release = await locks.hold(liveLockName(alive.id));
    const f = recordingFetch();
    const r = await sendPass(deps(db, { locks, fetch: f.fetch }));

    assert.deepEqual(r.sent, [dead.id]);
    const record = await db.get('sessions', dead.id);
    assert.equal(record?.status, 'crashed');
    assert.equal(record?.endedAt, dead.heartbeatAt, 'a crashed session ends at its last write');
    const row = await getDelivery(db, dead.id);
    assert.equal(row?.detailState, 'sent');
    assert.equal(row?.summaryStatus, 'crashed');
    assert.equal(row?.sentSeq, 50);
    const stored = await t.collector.store.getSession(dead.id);
    assert.equal(stored?.summary.status, 'crashed');
    assert.equal(stored?.detail?.messageCount, 50);

    assert.equal((await db.get('sessions', alive.id))?.status, 'running', 'a session whose tab holds its live lock stays running');
    assert.equal(await getDelivery(db, alive.id), undefined);
    assert.deepEqual(
      f.requests.filter(isSummaries).map((x) => x.summaries),
      [[dead.id]],
    );
    release();
  });

  test('a pass that listed a session before another context confirmed it re-reads it under the upload lock and uploads nothing', async () => {
    const db = await openDb();
    const locks = new FakeLocks();
    const s = await seedSession(db);
    let tabDone: Promise<PassResult> | undefined;
    let asked = 0;
    const sw = recordingFetch();
    const tab = recordingFetch();
    // The service worker's list says "wanted"; before it takes the upload lock, the tab sends the session whole.
    const late = await sendPass(
      deps(db, {
        locks,
        fetch: sw.fetch,
        allowed: async () => {
          if (++asked === 2) await (tabDone = sendPass(deps(db, { locks, fetch: tab.fetch })));
          return true;
        },
      }),
    );
    assert.ok(tabDone, 'the tab’s pass ran inside the late pass');
    assert.deepEqual((await tabDone).sent, [s.id]);
    assert.deepEqual(late, { sent: [], declined: [], parked: [], busy: [], remaining: 0 });
    assert.deepEqual(sw.uploadsOf(s.id), [], 'the late pass uploads nothing');
    assert.equal(storedCount(s.id), 1);
    const row = await getDelivery(db, s.id);
    assert.equal(row?.detailState, 'sent');
    assert.equal(row?.sentSeq, s.lastSeq);
  });

  test('a summary reply that arrives after another context confirmed the upload leaves the session sent', async () => {
    const db = await openDb();
    const locks = new FakeLocks();
    const s = await seedSession(db);
    const tab = recordingFetch();
    let tabPass: Promise<PassResult> | undefined;
    // The collector answered the service worker "wanted"; the answer reaches it only after the tab sent the session.
    const sw = recordingFetch({
      settle: async (r) => {
        if (r.path === PATHS.summaries && !tabPass) await (tabPass = sendPass(deps(db, { locks, fetch: tab.fetch })));
      },
    });
    const late = await sendPass(deps(db, { locks, fetch: sw.fetch }));

    assert.ok(tabPass);
    assert.deepEqual((await tabPass).sent, [s.id]);
    assert.deepEqual(late.sent, []);
    assert.deepEqual(sw.uploadsOf(s.id), [], 'the late reply starts no upload');
    assert.equal(storedCount(s.id), 1);
    const row = await getDelivery(db, s.id);
    assert.equal(row?.detailState, 'sent', 'the late "wanted" does not undo "sent"');
    assert.equal(row?.sentSeq, s.lastSeq);
    assert.equal(row?.lastOp, 'summary-reply');
  });

  test('a blob made while the session ran is compressed again once the session has grown, never resumed', async () => {
    const db = await openDb();
    const s = await seedSession(db, { status: 'running', messages: 100 });
    // Left behind by a tab that closed before its upload of the running session was confirmed.
    await compressor(db)(s.id);
    const stale = await db.get('outbox', s.id);
    assert.equal(stale?.lastSeq, 100);
    await growSession(db, s.id, 50, { end: true });
    const f = recordingFetch();
    const r = await sendPass(deps(db, { fetch: f.fetch }));

    assert.deepEqual(r.sent, [s.id]);
    const row = await getDelivery(db, s.id);
    assert.equal(row?.detailState, 'sent');
    assert.equal(row?.sentSeq, 150);
    const stored = await t.collector.store.getSession(s.id);
    assert.equal(stored?.detail?.messageCount, 150, 'the whole session, not the blob made at 100');
    assert.notEqual(stored?.detail?.sha256, stale?.sha256);
    assert.equal(await storedText(s.id), await localText(db, s.id));
    assert.equal(f.uploadsOf(s.id).filter((u) => u.method === 'POST').length, 1, 'one upload: the short blob never went up');
    assert.equal(storedCount(s.id), 1);
    assert.equal(f.requests.filter(isSummaries).length, 1);
  });

  test('an upload cut by the network resumes in the next pass from the offset the collector confirmed', async () => {
    const db = await openDb();
    const s = await seedSession(db, { messages: 600, textChars: 80 });
    let patches = 0;
    // The network goes at the second PATCH of the first pass.
    const f = recordingFetch({
      intercept: (r) => {
        if (r.method === 'PATCH' && ++patches === 2) throw new TypeError('fetch failed');
        return undefined;
      },
    });
    const first = await sendPass(deps(db, { fetch: f.fetch }));

    assert.equal(first.failure?.retryable, true);
    assert.equal(first.failure?.status, undefined, 'a network failure');
    assert.deepEqual(first.sent, []);
    const ob = await db.get('outbox', s.id);
    assert.ok(ob?.uploadUrl, 'the upload URL is kept in the outbox');
    assert.equal(ob.offset, 4096, 'with the offset of the one confirmed chunk');
    assert.equal((await getDelivery(db, s.id))?.detailState, 'queued');
    assert.ok(ob.size > 3 * 4096, `several chunks (${ob.size} bytes)`);

    const before = f.uploadsOf(s.id).length;
    const second = await sendPass(deps(db, { fetch: f.fetch }));
    assert.deepEqual(second.sent, [s.id]);
    const uploads = f.uploadsOf(s.id).slice(before);
    assert.equal(uploads.filter((u) => u.method === 'POST').length, 0, 'no new upload');
    assert.equal(uploads[0].offset, 4096, 'resumed where the collector stood');
    assert.equal(uploads.length, Math.ceil((ob.size - 4096) / 4096));
    assert.equal(storedCount(s.id), 1);
    assert.equal(await storedText(s.id), await localText(db, s.id));
    assert.equal((await getDelivery(db, s.id))?.detailState, 'sent');
  });

  const json = (status: number, body: object, headers: Record<string, string> = {}) =>
    new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } });

  test('one invalid summary in a batch parks only that one; the others are summarised and sent in the same pass', async () => {
    const db = await openDb();
    const a = await seedSession(db, { startedAt: Date.now() - 3000 });
    // A value only a newer agent would send: this collector refuses it.
    const bad = await seedSession(db, { startedAt: Date.now() - 2000, record: { persistence: 'opfs' as never } });
    const c = await seedSession(db, { startedAt: Date.now() - 1000 });
    const f = recordingFetch();
    const r = await sendPass(deps(db, { fetch: f.fetch }));

    assert.deepEqual(
      r.parked.map((p) => p.id),
      [bad.id],
    );
    assert.match(r.parked[0].reason, /answered 400: invalid-field — sessions\[1\]\.persistence/);
    assert.deepEqual(r.sent.sort(), [a.id, c.id].sort());
    assert.deepEqual(
      f.requests.filter(isSummaries).map((x) => [x.summaries, x.status]),
      [
        [[a.id, bad.id, c.id], 400],
        [[a.id, c.id], 200],
      ],
      'the refusal named the one at fault; the rest went again at once',
    );
    assert.equal((await getDelivery(db, bad.id))?.parkedStatus, 400);
    assert.equal(await t.collector.store.getSession(bad.id), undefined);
  });

  test('an older collector that names the refused summary only in its detail text: the same, only that one is parked', async () => {
    const db = await openDb();
    const a = await seedSession(db, { startedAt: Date.now() - 2000 });
    const b = await seedSession(db, { startedAt: Date.now() - 1000 });
    const f = recordingFetch({
      // A collector from before ErrorBody.field: the index is in the detail only.
      intercept: (_r, n) => (n === 0 ? json(400, { error: 'invalid-field', detail: 'sessions[0].color: unknown field' }) : undefined),
    });
    const r = await sendPass(deps(db, { fetch: f.fetch }));
    assert.deepEqual(
      r.parked.map((p) => p.id),
      [a.id],
    );
    assert.deepEqual(r.sent, [b.id]);
  });

  test('a refusal of the request as a whole (no summary named) parks the batch, each session with the reason', async () => {
    const db = await openDb();
    const a = await seedSession(db);
    const b = await seedSession(db);
    const f = recordingFetch({
      intercept: (_r, n) => (n === 0 ? json(400, { error: 'invalid-field', detail: 'product: must be letters, digits and . _ : -' }) : undefined),
    });
    const r = await sendPass(deps(db, { fetch: f.fetch }));
    assert.deepEqual(r.parked.map((p) => p.id).sort(), [a.id, b.id].sort());
    assert.equal(f.requests.length, 1, 'no request is repeated');
  });

  test('many single refusals in one pass stop its summaries after ten; the rest stay queued, not parked', async () => {
    const db = await openDb();
    const seeded = [];
    for (let i = 0; i < 14; i++) seeded.push(await seedSession(db, { startedAt: Date.now() - 100_000 + i, record: { persistence: 'opfs' as never } }));
    const f = recordingFetch();
    const r = await sendPass(deps(db, { fetch: f.fetch }));
    assert.equal(r.parked.length, 10);
    assert.equal(f.requests.filter(isSummaries).length, 10, 'one request per refusal, then none');
    assert.equal(r.remaining, 4, 'the other four wait for the next pass');
  });

  test('1,000 summaries with long URLs go in batches under 1 MiB each (none refused as too large); URL and user agent are cut to the collector limits', async () => {
    const db = await openDb('quiet');
    const longUrl = `https://app.example.com/${'path/'.repeat(1500)}?q=${'é'.repeat(500)}`;
    const base = await seedSession(db, { product: 'quiet', messages: 1 });
    const tx = db.transaction(['sessions'], 'readwrite');
    const ids: string[] = [];
    for (let i = 0; i < 1000; i++) {
      const id = `${base.id.slice(0, 24)}${String(i).padStart(12, '0')}`;
      ids.push(id);
      void tx.objectStore('sessions').put({ ...base, id, url: `${longUrl}&n=${i}`, userAgent: 'Mozilla/5.0 '.repeat(200), startedAt: base.startedAt + i + 1 });
    }
    await tx.done;
    const f = recordingFetch();
    const r = await sendPass(deps(db, { product: 'quiet', target: { url: t.collector.url, ingestKey: KEYS.none }, fetch: f.fetch }));

    assert.equal(r.failure, undefined);
    assert.deepEqual(r.parked, []);
    assert.equal(r.declined.length, 1001, 'every summary reached the collector (policy none declines them all)');
    const posts = f.requests.filter(isSummaries);
    assert.ok(posts.length > 1, `split by bytes (${posts.length} requests)`);
    for (const p of posts) {
      assert.equal(p.status, 200);
      assert.ok((p.bytes ?? 0) <= LIMITS.maxSummariesBodyBytes, `${p.bytes} bytes`);
      assert.ok((p.summaries?.length ?? 0) <= LIMITS.maxSummariesPerRequest);
    }
    assert.deepEqual(
      posts.flatMap((p) => p.summaries),
      [base.id, ...ids],
      'every session once, oldest first',
    );
    const stored = await t.collector.store.getSession(ids[999]);
    assert.equal(stored?.summary.url.length, SUMMARY_LIMITS.url);
    assert.equal(stored?.summary.userAgent.length, SUMMARY_LIMITS.userAgent);
  });

  test('a collector whose own limits are lower (413, or too many summaries) gets the batch halved until it takes it', async () => {
    const db = await openDb();
    for (let i = 0; i < 6; i++) await seedSession(db, { startedAt: Date.now() - 10_000 + i, messages: 1 });
    const f = recordingFetch({
      intercept: (r) => {
        if (!isSummaries(r)) return undefined;
        if ((r.summaries?.length ?? 0) > 3) return json(413, { error: 'too-large', detail: 'summaries body is over 4096 bytes' });
        if ((r.summaries?.length ?? 0) > 2) return json(400, { error: 'invalid-field', detail: 'sessions: must have at most 2 items', field: 'sessions' });
        return undefined;
      },
    });
    const r = await sendPass(deps(db, { fetch: f.fetch }));
    assert.deepEqual(r.parked, []);
    assert.equal(r.sent.length, 6);
    assert.deepEqual(
      f.requests.filter(isSummaries).map((x) => [x.summaries?.length, x.status]),
      [
        [6, 413],
        [3, 400],
        [2, 200],
        [1, 200],
        [3, 400],
        [2, 200],
        [1, 200],
      ],
    );
  });

  test('a summary too large for any request even alone is set aside by the agent itself, and the rest go', async () => {
    const db = await openDb();
    // Limits this small make an ordinary long URL "too large alone"; with the real ones only an unbounded new field could.
    const big = await seedSession(db, { startedAt: Date.now() - 2000, record: { url: `https://app.example.com/${'x'.repeat(2000)}` } });
    const small = await seedSession(db, { startedAt: Date.now() - 1000 });
    const f = recordingFetch();
    const r = await sendPass(deps(db, { fetch: f.fetch, batchLimits: { maxCount: 1000, maxBytes: 1500 } }));
    assert.deepEqual(
      r.parked.map((p) => p.id),
      [big.id],
    );
    assert.deepEqual(r.sent, [small.id]);
    const row = await getDelivery(db, big.id);
    assert.match(row?.parked ?? '', /bytes, more than a request to the collector may hold/);
    assert.equal(row?.parkedStatus, undefined, 'set aside by the agent, not refused by the collector');
    assert.deepEqual(
      f.requests.filter(isSummaries).map((x) => x.summaries),
      [[small.id]],
      'the large one was never sent',
    );
  });

  for (const [name, key, origin, reason] of [
    ['an unknown ingest key (401)', 'no-such-key-0001', undefined, 'unauthorized'],
    ['a key of another product (403 product-mismatch)', KEYS.other, undefined, 'product-mismatch'],
    ['an origin the key does not list (403)', KEYS.all, 'https://elsewhere.example', 'forbidden'],
  ] as const) {
    test(`${name} pauses the pass: nothing is parked, nothing recorded, and the same sessions go once it is fixed`, async () => {
      const db = await openDb();
      const a = await seedSession(db);
      const b = await seedSession(db);
      const f = recordingFetch({
        inner: (input, init) => {
          const headers = new Headers(init?.headers);
          if (origin) headers.set('origin', origin);
          return fetch(input, { ...init, headers });
        },
      });
      const r = await sendPass(deps(db, { target: { url: t.collector.url, ingestKey: key }, fetch: f.fetch }));
      assert.equal(r.paused, reason);
      assert.equal(r.failure?.retryable, false);
      assert.deepEqual([r.sent, r.declined, r.parked], [[], [], []]);
      assert.equal(r.remaining, 2);
      assert.equal(await getDelivery(db, a.id), undefined, 'no delivery row: nothing is marked');
      assert.equal(f.requests.length, 1, 'the pass stopped at the first refusal');

      const fixed = await sendPass(deps(db));
      assert.equal(fixed.paused, undefined);
      assert.deepEqual(fixed.sent.sort(), [a.id, b.id].sort());
    });
  }

  test('a 401 on an upload pauses too: the session stays wanted, not parked, and is uploaded once the key is right', async () => {
    const db = await openDb();
    const s = await seedSession(db);
    const f = recordingFetch({
      intercept: (r) => (r.method === 'POST' && r.path === PATHS.uploads ? json(401, { error: 'unauthorized', detail: 'unknown ingest key' }) : undefined),
    });
    const r = await sendPass(deps(db, { fetch: f.fetch }));
    assert.equal(r.paused, 'unauthorized');
    assert.deepEqual(r.parked, []);
    const row = await getDelivery(db, s.id);
    assert.equal(row?.parked, undefined);
    assert.equal(row?.detailState, 'queued');
    const next = await sendPass(deps(db));
    assert.deepEqual(next.sent, [s.id]);
  });

  test('a session an older collector refused is tried again once a newer collector answers, and not again by the same one', async () => {
    const db = await openDb();
    const s = await seedSession(db);
    // The old collector (0.0.9) refused a field of this summary.
    const old = recordingFetch({
      intercept: () =>
        json(
          400,
          { error: 'invalid-field', detail: 'sessions[0].persistence: must be indexeddb', field: 'sessions[0].persistence' },
          { [COLLECTOR_VERSION_HEADER]: '0.0.9' },
        ),
    });
    const first = await sendPass(deps(db, { fetch: old.fetch }));
    assert.deepEqual(
      first.parked.map((p) => p.id),
      [s.id],
    );
    assert.equal((await getDelivery(db, s.id))?.parkedCollector, '0.0.9');

    const newer = await startTestCollector({ listen: true, version: '0.2.0' });
    try {
      // A session that ended since: its summary is the request that shows the collector's version.
      const fresh = await seedSession(db);
      const f = recordingFetch();
      const r = await sendPass(deps(db, { target: { url: newer.collector.url, ingestKey: KEYS.all }, fetch: f.fetch }));
      assert.deepEqual(r.unparked, [s.id]);
      assert.deepEqual(r.sent.sort(), [s.id, fresh.id].sort(), 'the parked session went through');
      assert.equal((await getDelivery(db, s.id))?.lastOp, 'upload-confirmed');

      // Parked by 0.2.0 itself: the same collector does not get it again.
      const again = await seedSession(db, { record: { persistence: 'opfs' as never } });
      await sendPass(deps(db, { target: { url: newer.collector.url, ingestKey: KEYS.all } }));
      assert.equal((await getDelivery(db, again.id))?.parkedCollector, '0.2.0');
      await seedSession(db);
      const later = await sendPass(deps(db, { target: { url: newer.collector.url, ingestKey: KEYS.all } }));
      assert.equal(later.unparked, undefined);
      assert.equal((await getDelivery(db, again.id))?.parked !== undefined, true, 'still parked');
    } finally {
      await newer.close();
    }
  });
  test('a collector that accepts and never answers: the request times out as a network error, and the pass ends', async () => {
    // Found by the fault suite's black hole (tests/faults/network.test.ts): without a timeout the pass waited for ever.
    const held: Socket[] = [];
    const hole = createServer((s) => held.push(s));
    await new Promise<void>((r) => hole.listen(0, '127.0.0.1', r));
    try {
      const db = await openDb();
      const s = await seedSession(db);
      const port = (hole.address() as { port: number }).port;
      const r = await within(
        sendPass(deps(db, { target: { url: `http://127.0.0.1:${port}`, ingestKey: KEYS.all }, requestTimeoutMs: 300 })),
        10_000,
        'the pass',
      );
      assert.deepEqual(r.sent, []);
      assert.equal(r.remaining, 1);
      assert.equal(r.failure?.retryable, true, 'retryable: the next pass tries again');
      assert.equal((await getDelivery(db, s.id))?.parked, undefined, 'nothing parked');
    } finally {
      for (const x of held) x.destroy();
      await new Promise((r) => hole.close(r));
    }
  });
});
