/**
 * Per-product disk quotas on both stores: unfinished upload bytes and stored bytes. Past either,
 * new detail is `507 quota-exceeded` with Retry-After (the agent keeps the data and retries);
 * summaries are still taken; other products are not affected.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { PATHS } from '../../../src/shared/protocol.js';
import { startPostgres, type TestPostgres } from '../../support/postgres.js';
import { countsWith, makeDetail, makeMessages, makePackage, makeSummary, noisyMessages } from './fixtures.js';
import { createUpload, KEYS, startTestCollector, type TestCollector, uploadAll } from './harness.js';

const UPLOADS = 10_000;
const STORED = 60_000;

const suite = (name: string, storeOver: () => Promise<{ over: Record<string, unknown>; cleanup(): Promise<void> }>): void => {
  describe(`disk quotas: ${name}`, () => {
    let t: TestCollector;
    let cleanup: () => Promise<void>;
    let clock = 0;
    before(async () => {
      const s = await storeOver();
      cleanup = s.cleanup;
      t = await startTestCollector({
        now: () => Date.now() + clock,
        over: {
          ...s.over,
          quota: { uploadBytes: UPLOADS, storedBytes: STORED },
          products: {
            demo: { policy: 'all', keys: [{ key: KEYS.all, origins: ['*'] }] },
            // Its own quota: no stored limit, a larger one for uploads.
            other: { policy: 'all', keys: [{ key: KEYS.other, origins: ['*'] }], quota: { storedBytes: 0, uploadBytes: 4 * UPLOADS } },
            stored: { policy: 'all', keys: [{ key: 'key-stored-0001', origins: ['*'] }], quota: { uploadBytes: 0 } },
          },
        },
      });
      await t.collector.ready;
    });
    after(async () => {
      await t?.close();
      await cleanup?.();
    });

    const announce = async (product = 'demo', key: string = KEYS.all) => {
      const s = makeSummary({ product });
      await t.summaries([s], { key, product });
      return s;
    };
    const expectQuota = async (res: Response, what: RegExp) => {
      assert.equal(res.status, 507, await res.clone().text());
      assert.equal(res.headers.get('retry-after'), '600');
      const body = (await res.json()) as { error: string; detail: string };
      assert.equal(body.error, 'quota-exceeded');
      assert.match(body.detail, what);
    };

    test('unfinished uploads: past the product’s quota a new upload is 507; finished and expired ones free their room', async () => {
      const a = await announce();
      const da = makeDetail(makeMessages(a.id, 40));
      const first = await createUpload(t, { sessionId: a.id, length: da.gz.length, sha256: da.sha256 });
      assert.equal(first.status, 201);
      const room = UPLOADS - da.gz.length;
      const b = await announce();
      await expectQuota(
        await createUpload(t, { sessionId: b.id, length: room + 1, sha256: da.sha256 }),
        new RegExp(`unfinished uploads: this product has ${da.gz.length} bytes, ${room + 1} more would pass its quota of ${UPLOADS}`),
      );
      const metrics = await (await t.req('/metrics', { admin: true })).text();
      assert.match(metrics, /ferry_rejected_total\{reason="quota-exceeded"\} [1-9]/, 'counted for alerts');
      // Up to the quota exactly is fine.
      assert.equal((await createUpload(t, { sessionId: b.id, length: room, sha256: da.sha256 })).status, 201);
      // Another product has its own budget.
      const o = await announce('other', KEYS.other);
      assert.equal((await createUpload(t, { sessionId: o.id, length: 2 * UPLOADS, sha256: da.sha256, product: 'other', key: KEYS.other })).status, 201);

      // Finishing an upload frees its room.
      const c = await announce();
      await expectQuota(await createUpload(t, { sessionId: c.id, length: da.gz.length, sha256: da.sha256 }), /unfinished uploads/);
      assert.equal((await uploadAll(t, first.headers.get('location')!, da.gz)).status, 204);
      assert.equal((await createUpload(t, { sessionId: c.id, length: da.gz.length, sha256: da.sha256 })).status, 201, 'a finished upload no longer counts');

      // Expired uploads no longer count either.
      clock = t.collector.config.uploadExpirationMs + 1000;
      try {
        const d = await announce();
        assert.equal((await createUpload(t, { sessionId: d.id, length: UPLOADS, sha256: da.sha256 })).status, 201, 'expired uploads no longer count');
      } finally {
        clock = 0;
      }
    });

    test('stored bytes: past the product’s quota uploads and packages are 507, summaries are still taken, other products go on', async () => {
      const key = 'key-stored-0001';
      const post = (zip: Uint8Array) =>
        t.req(PATHS.packages, { method: 'POST', key, headers: { 'content-type': 'application/zip' }, body: zip as Uint8Array<ArrayBuffer> });
      // A package that fits, bringing the product close to its quota.
      const big = makeSummary({ product: 'stored', counts: countsWith({ error: 7, information: 63 }), messageCount: 70, lastSeq: 70 });
      const pkg = makePackage([{ summary: big, messages: noisyMessages(big.id, 70, 600) }]);
      const ok = await post(pkg);
      assert.equal(ok.status, 200, await ok.text());
      const used = await t.collector.store.productStoredBytes('stored');
      assert.ok(used > 30_000 && used < STORED - 5000, `stored ${used}`);
      clock = 20_000; // past the collector's cache of the stored total
      try {
        const s = makeSummary({ product: 'stored' });
        await t.summaries([s], { key, product: 'stored' }); // summaries are never refused for the quota
        const room = STORED - (await t.collector.store.productStoredBytes('stored'));
        const d = makeDetail(makeMessages(s.id, 5));
        await expectQuota(
          await createUpload(t, { sessionId: s.id, length: room + 1, sha256: d.sha256, product: 'stored', key }),
          new RegExp(`stored bytes: this product has \\d+ bytes, ${room + 1} more would pass its quota of ${STORED}`),
        );
        const again = makePackage([{ summary: s, messages: noisyMessages(s.id, 40, 600) }]);
        assert.ok(again.length > room);
        await expectQuota(await post(again), /stored bytes/);
        assert.equal((await t.collector.store.getSession(s.id))?.detail, undefined, 'nothing of it was stored');
        // What still fits is taken.
        const made = await createUpload(t, { sessionId: s.id, length: d.gz.length, sha256: d.sha256, product: 'stored', key });
        assert.equal(made.status, 201);
        assert.equal((await uploadAll(t, made.headers.get('location')!, d.gz, 64 * 1024, 0, key)).status, 204);
        // The other product has no stored quota.
        const o = await announce('other', KEYS.other);
        const oPkg = makePackage([
          { summary: { ...o, counts: countsWith({ information: 90 }), messageCount: 90, lastSeq: 90 }, messages: noisyMessages(o.id, 90, 600) },
        ]);
        const oRes = await t.req(PATHS.packages, {
          method: 'POST',
          key: KEYS.other,
          headers: { 'content-type': 'application/zip' },
          body: oPkg as Uint8Array<ArrayBuffer>,
        });
        assert.equal(oRes.status, 200);
      } finally {
        clock = 0;
      }
    });
  });
};

suite('SQLite', async () => ({ over: {}, cleanup: async () => {} }));

let pg: TestPostgres | undefined;
suite('PostgreSQL', async () => {
  pg = await startPostgres();
  return { over: { store: { kind: 'postgres', url: pg.url, poolSize: 4 } }, cleanup: async () => pg?.stop() };
});
