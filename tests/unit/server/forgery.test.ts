// Claims a client can forge with a public ingest key, on both stores: a package's (or summary's)
// counts and last seq, which drive `worst`, the severity filters and which detail replaces which,
// and `sentAt`, which moves session times. The stored values are those the lines prove, and a
// clock correction is bounded by limits.maxClockOffsetMs.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ADMIN_PATHS, PATHS, type PackageReply } from '../../../src/shared/protocol.js';
import { startPostgres, type TestPostgres } from '../../support/postgres.js';
import { countsWith, makeDetail, makeMessages, makePackage, makeSummary } from './fixtures.js';
import { createUpload, KEYS, startTestCollector, type TestCollector, uploadAll } from './harness.js';

const HOUR = 3600_000;

const forgery = (name: string, store: () => Promise<Record<string, unknown>>, done: () => Promise<void> = async () => {}): void => {
  describe(`forged claims (${name})`, () => {
    let t: TestCollector;
    before(async () => {
      t = await startTestCollector({ over: { ...(await store()), limits: { maxClockOffsetMs: 2 * HOUR } } });
    });
    after(async () => {
      await t?.close();
      await done();
    });
    const send = async (zip: Uint8Array, query = ''): Promise<PackageReply> => {
      const res = await t.req(`${PATHS.packages}${query}`, {
        method: 'POST',
        key: KEYS.all,
        headers: { 'content-type': 'application/zip' },
        body: zip as Uint8Array<ArrayBuffer>,
      });
      assert.equal(res.status, 200, await res.clone().text());
      return (await res.json()) as PackageReply;
    };

    test("a package's counts, message count and last seq are those of its lines", async () => {
      const s = makeSummary({ counts: countsWith({ critical: 7 }), messageCount: 7, lastSeq: 1_000_000 });
      await send(makePackage([{ summary: s, messages: makeMessages(s.id, 3) }]));
      const stored = await t.collector.store.getSession(s.id);
      assert.equal(stored?.worst, 'information');
      assert.deepEqual(stored?.summary.counts, countsWith({ information: 3 }));
      assert.equal(stored?.summary.messageCount, 3);
      assert.equal(stored?.summary.lastSeq, 3);
      const critical = await t.collector.store.listSessions({ product: 'demo', minSeverity: 'critical', limit: 500 });
      assert.equal(
        critical.sessions.some((x) => x.summary.id === s.id),
        false,
        'not found as critical',
      );
      // The claimed last seq blocks nothing: a copy whose lines reach further replaces the detail,
      // and one that only claims to does not.
      const longer = await send(makePackage([{ summary: { ...s, lastSeq: 10 }, messages: makeMessages(s.id, 10, 'error') }]));
      assert.deepEqual(longer.sessions, [{ id: s.id, stored: 'new' }]);
      const claimsMore = await send(makePackage([{ summary: { ...s, lastSeq: 2_000_000 }, messages: makeMessages(s.id, 5, 'critical') }]));
      assert.deepEqual(claimsMore.sessions, [{ id: s.id, stored: 'existing' }]);
      const after = await t.collector.store.getSession(s.id);
      assert.equal(after?.detail?.lastSeq, 10);
      assert.equal(after?.worst, 'error');
      assert.deepEqual(after?.summary.counts, countsWith({ error: 10 }));
    });

    test("an upload's lines replace the counts its summary claimed, once they cover it", async () => {
      const s = makeSummary({ counts: countsWith({ critical: 2, information: 1 }), messageCount: 3, lastSeq: 3 });
      await t.summaries([s]);
      assert.equal((await t.collector.store.getSession(s.id))?.worst, 'critical', 'the claim, until lines come');
      const d = makeDetail(makeMessages(s.id, 3, 'warning'));
      const created = await createUpload(t, { sessionId: s.id, length: d.gz.length, sha256: d.sha256 });
      assert.equal((await uploadAll(t, created.headers.get('location') ?? '', d.gz)).status, 204);
      const stored = await t.collector.store.getSession(s.id);
      assert.equal(stored?.worst, 'warning');
      assert.deepEqual(stored?.summary.counts, countsWith({ warning: 3 }));
      const list = await t.req(`${ADMIN_PATHS.sessions}?product=demo&minSeverity=critical&limit=500`, { admin: true });
      const ids = ((await list.json()) as { sessions: { summary: { id: string } }[] }).sessions.map((x) => x.summary.id);
      assert.equal(ids.includes(s.id), false);
    });

    test('a sentAt beyond limits.maxClockOffsetMs is clamped, for packages and summaries', async () => {
      const now = Date.now();
      const p = makeSummary({ startedAt: now - 60_000, endedAt: now - 1000 });
      // sentAt 1 (1970) would move the session 56 years; the bound is 2 h.
      await send(makePackage([{ summary: p, messages: makeMessages(p.id, 1) }]), '?sentAt=1');
      const sp = await t.collector.store.getSession(p.id);
      assert.equal(sp?.clockOffsetMs, 2 * HOUR);
      assert.equal(sp?.startedAt, p.startedAt + 2 * HOUR);
      const future = makeSummary({ startedAt: now - 60_000 });
      await t.summaries([future], { sentAt: now + 365 * 24 * HOUR });
      const sf = await t.collector.store.getSession(future.id);
      assert.equal(sf?.clockOffsetMs, -2 * HOUR);
      assert.equal(sf?.startedAt, future.startedAt - 2 * HOUR);
      // Within the bound the correction is applied as before.
      const skewed = makeSummary({ startedAt: now - 60_000 });
      await t.summaries([skewed], { sentAt: now - HOUR });
      const ss = await t.collector.store.getSession(skewed.id);
      assert.ok(Math.abs((ss?.clockOffsetMs ?? 0) - HOUR) < 5_000, `offset ${ss?.clockOffsetMs}`);
    });
  });
};

forgery('SQLite', async () => ({}));

let pg: TestPostgres | undefined;
forgery(
  'PostgreSQL',
  async () => {
    pg = await startPostgres();
    return { store: { kind: 'postgres', url: pg.url, poolSize: 4 } };
  },
  async () => {
    await pg?.stop();
  },
);
