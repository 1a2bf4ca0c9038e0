// Concurrent package writes on both stores: a double click, two tabs or a proxy retry posts the
// same package twice at once, and every copy must answer only once the data is durable, with no
// request deleting a blob that a committed session row points to.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { encodeMessages } from '../../../src/shared/message.js';
import { ADMIN_PATHS, PATHS } from '../../../src/shared/protocol.js';
import { startPostgres, type TestPostgres } from '../../support/postgres.js';
import { countsWith, makeDetail, makeMessages, makePackage, makeSummary } from './fixtures.js';
import { KEYS, startTestCollector, type TestCollector } from './harness.js';

const send = (t: TestCollector, zip: Uint8Array): Promise<Response> =>
  t.req(PATHS.packages, { method: 'POST', key: KEYS.all, headers: { 'content-type': 'application/zip' }, body: zip as Uint8Array<ArrayBuffer> });

/** The session's stored detail decodes to exactly `ndjson`, through the blob store and the read API. */
const assertReadable = async (t: TestCollector, id: string, ndjson: string): Promise<void> => {
  const s = await t.collector.store.getSession(id);
  assert.ok(s?.detail, `session ${id} has detail`);
  const gz = await t.collector.store.blobs.read(s.detail.sha256);
  assert.ok(gz, `the blob of session ${id} exists`);
  assert.equal(gunzipSync(gz).toString(), ndjson);
  const res = await t.req(ADMIN_PATHS.messages(id), { admin: true });
  assert.equal(res.status, 200, `messages of ${id}: ${res.status}`);
};

const races = (name: string, open: () => Promise<TestCollector>, done: () => Promise<void> = async () => {}): void => {
  describe(`concurrent package writes (${name})`, () => {
    let t: TestCollector;
    before(async () => {
      t = await open();
    });
    after(async () => {
      await t?.close();
      await done();
    });

    test('the same package posted many times at once: all 200, every session readable, blobs kept', async () => {
      for (let round = 0; round < 5; round++) {
        const sessions = Array.from({ length: 3 }, () => {
          const summary = makeSummary();
          return { summary, messages: makeMessages(summary.id, 20) };
        });
        const zip = makePackage(sessions);
        const replies = await Promise.all(Array.from({ length: 8 }, () => send(t, zip)));
        assert.deepEqual(
          replies.map((r) => r.status),
          Array(8).fill(200),
        );
        for (const s of sessions) await assertReadable(t, s.summary.id, encodeMessages(s.messages));
      }
    });

    test('different content for one session posted at once: the newest wins and its blob is there', async () => {
      for (let round = 0; round < 5; round++) {
        const summary = makeSummary();
        // Each copy reaches a different sequence number, as a session packaged while it ran and again later.
        const versions = Array.from({ length: 6 }, (_, i) => {
          const messages = makeMessages(summary.id, 5 + i);
          return { messages, zip: makePackage([{ summary: { ...summary, lastSeq: 5 + i, messageCount: 5 + i }, messages }]) };
        });
        const replies = await Promise.all([...versions, ...versions].map((v) => send(t, v.zip)));
        for (const r of replies) assert.equal(r.status, 200, await r.text());
        const newest = versions[versions.length - 1];
        assert.ok(newest);
        await assertReadable(t, summary.id, encodeMessages(newest.messages));
      }
    });

    test('a package and an upload of the same session finishing at once: whichever is stored keeps its blob', async () => {
      for (let round = 0; round < 5; round++) {
        const summary = makeSummary();
        const messages = makeMessages(summary.id, 12);
        await t.summaries([summary]);
        const d = makeDetail(messages);
        const detail = {
          sessionId: summary.id,
          sha256: d.sha256,
          compressedBytes: d.gz.length,
          bytes: Buffer.byteLength(d.ndjson),
          messageCount: messages.length,
          counts: countsWith({ information: messages.length }),
          lastSeq: messages.length,
          receivedAt: Date.now(),
        };
        const zip = makePackage([{ summary, messages }]);
        const results = await Promise.all([
          ...Array.from({ length: 4 }, () => t.collector.store.storeDetail(detail, { bytes: d.gz })),
          ...Array.from({ length: 4 }, () => send(t, zip).then((r) => r.status)),
        ]);
        for (const r of results.slice(4)) assert.equal(r, 200);
        await assertReadable(t, summary.id, d.ndjson);
      }
    });
  });
};

// Room for every copy at once: the package slots (limits.concurrentPackages) are not under test here.
const over = { limits: { concurrentPackages: 64 } };
races('SQLite', () => startTestCollector({ over }));

let pg: TestPostgres | undefined;
races(
  'PostgreSQL',
  async () => {
    pg = await startPostgres();
    return startTestCollector({ over: { ...over, store: { kind: 'postgres', url: pg.url, poolSize: 8 } } });
  },
  async () => {
    await pg?.stop();
  },
);
