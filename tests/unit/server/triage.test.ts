/**
 * Triage and data lifecycle through the collector, on both stores: exception groups and search
 * indexed at ingest, admin deletion (a session, a user, an installation) leaving nothing behind,
 * and retention removing exactly what is past the limits.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Db } from '../../../src/server/store/db.js';
import type { Store } from '../../../src/server/store/types.js';
import type { LogMessage } from '../../../src/shared/message.js';
import {
  type DeleteReply,
  type GroupListReply,
  type GroupReply,
  PATHS,
  type RetentionReply,
  type SearchReply,
  TRIAGE_PATHS,
} from '../../../src/shared/protocol.js';
import type { SessionSummary } from '../../../src/shared/summary.js';
import { startPostgres, type TestPostgres } from '../../support/postgres.js';
import { countsWith, makeDetail, makePackage, makeSummary } from './fixtures.js';
import { createUpload, KEYS, startTestCollector, type TestCollector, uploadAll } from './harness.js';

const DAY = 24 * 3600_000;
const T0 = Date.UTC(2026, 5, 1, 9);

/** A realistic session: steps with details, one TypeError with a stack (ids and numbers vary per session), one error without exception. */
const sessionMessages = (s: SessionSummary, o: { orderId: number; word: string }): LogMessage[] => {
  const base = s.startedAt;
  const out: LogMessage[] = [];
  for (let i = 0; i < 20; i++)
    out.push({
      sessionId: s.id,
      seq: out.length + 1,
      time: base + i * 1000,
      severity: 'information',
      category: i % 2 ? 'net' : 'ui',
      text: i === 5 ? `checkout ${o.word} started for order ${o.orderId}` : `step ${i} of the editor`,
      details: { step: i, route: '/editor', took: 12 + i },
    });
  out.push({
    sessionId: s.id,
    seq: out.length + 1,
    time: base + 30_000,
    severity: 'error',
    category: 'window.onerror',
    text: `Uncaught TypeError: Cannot read properties of undefined (reading 'total') at order ${o.orderId}`,
    details: { orderId: o.orderId },
    exception: {
      name: 'TypeError',
      message: `Cannot read properties of undefined (reading 'total') for order ${o.orderId}`,
      stack: `TypeError: Cannot read properties of undefined\n    at computeTotal (https://app.example.com/assets/cart.3f9a1c2b.js:10:${o.orderId % 90})\n    at onSubmit (https://app.example.com/assets/cart.3f9a1c2b.js:88:3)\n    at HTMLButtonElement.dispatch (https://app.example.com/assets/vendor.aa11bb22.js:2:100)`,
    },
  });
  out.push({
    sessionId: s.id,
    seq: out.length + 1,
    time: base + 31_000,
    severity: 'error',
    category: 'sync',
    text: `sync failed after ${o.orderId} ms`,
    details: { retry: true },
  });
  return out;
};

interface Sent {
  summary: SessionSummary;
  messages: LogMessage[];
}

const suite = (name: string, storeOver: () => Promise<{ over: Record<string, unknown>; cleanup(): Promise<void> }>): void => {
  describe(`triage and lifecycle: ${name}`, () => {
    let t: TestCollector;
    let clock = T0;
    let cleanup: () => Promise<void>;
    let db: Db;
    const sent: Sent[] = [];

    before(async () => {
      const s = await storeOver();
      cleanup = s.cleanup;
      t = await startTestCollector({
        now: () => clock,
        over: {
          ...s.over,
          retention: { maxAgeDays: 30, maxBytes: 0 },
          products: {
            demo: { policy: 'all', keys: [{ key: KEYS.all, origins: ['*'] }] },
            other: { policy: 'all', keys: [{ key: KEYS.other, origins: ['*'] }], retention: { maxAgeDays: 0, maxBytes: 6000 } },
          },
        },
      });
      await t.collector.ready;
      db = (t.collector.store as Store & { db: Db }).db;
    });
    after(async () => {
      await t?.close();
      await cleanup?.();
    });

    const admin = async <T>(path: string, init: RequestInit = {}, status = 200): Promise<T> => {
      const res = await t.req(path, { ...init, admin: true });
      assert.equal(res.status, status, `${path}: ${await res.clone().text()}`);
      return (await res.json()) as T;
    };
    const sendPackage = async (sessions: Sent[], key: string = KEYS.all): Promise<void> => {
      const res = await t.req(PATHS.packages, {
        method: 'POST',
        key,
        headers: { 'content-type': 'application/zip' },
        body: makePackage(sessions) as Uint8Array<ArrayBuffer>,
      });
      assert.equal(res.status, 200, await res.text());
      await t.collector.indexed();
    };
    const sendUpload = async (x: Sent, key: string = KEYS.all): Promise<void> => {
      await t.summaries([x.summary], { key, sentAt: clock });
      const d = makeDetail(x.messages);
      const created = await createUpload(t, { sessionId: x.summary.id, length: d.gz.length, sha256: d.sha256, key, product: x.summary.product });
      assert.equal(created.status, 201, await created.text());
      assert.equal((await uploadAll(t, created.headers.get('location')!, d.gz, 64 * 1024, 0, key)).status, 204);
      await t.collector.indexed();
    };
    const make = (over: Partial<SessionSummary>, orderId: number, word = 'plain'): Sent => {
      const summary = makeSummary({ startedAt: clock - 60_000, endedAt: clock - 1000, counts: countsWith({ information: 20, error: 2 }), ...over });
      const messages = sessionMessages(summary, { orderId, word });
      return { summary: { ...summary, lastSeq: messages.length, messageCount: messages.length }, messages };
    };
    /** Every row anywhere that still names the session, by table. */
    const traces = async (id: string, sha?: string): Promise<Record<string, number>> => {
      const count = async (sql: string, p: (string | number)[]): Promise<number> => Number((await db.all<{ n: number }>(sql, p))[0]?.n ?? 0);
      const out: Record<string, number> = {
        sessions: await count('SELECT COUNT(*) AS n FROM sessions WHERE id = ?', [id]),
        session_context: await count('SELECT COUNT(*) AS n FROM session_context WHERE session_id = ?', [id]),
        group_sessions: await count('SELECT COUNT(*) AS n FROM group_sessions WHERE session_id = ?', [id]),
        exception_groups: await count('SELECT COUNT(*) AS n FROM exception_groups WHERE example_session = ?', [id]),
        search_docs: await count('SELECT COUNT(*) AS n FROM search_docs WHERE session_id = ?', [id]),
        uploads: await count('SELECT COUNT(*) AS n FROM uploads WHERE session_id = ?', [id]),
        packages: await count('SELECT COUNT(*) AS n FROM packages WHERE session_ids LIKE ?', [`%${id}%`]),
      };
      if (db.dialect === 'sqlite') out.search_fts = await count('SELECT COUNT(*) AS n FROM search_fts WHERE rowid NOT IN (SELECT id FROM search_docs)', []);
      if (sha) {
        out.blob = (await t.collector.store.blobs.has(sha)) ? 1 : 0;
        out.blob_deletions = await count('SELECT COUNT(*) AS n FROM blob_deletions WHERE sha256 = ?', [sha]);
      }
      return out;
    };
    const none = (r: Record<string, number>): void =>
      assert.deepEqual(
        Object.values(r),
        Object.values(r).map(() => 0),
        JSON.stringify(r),
      );

    test('exceptions are grouped at ingest across sessions and versions, with counts, users and an example stack', async () => {
      const a = make({ version: '1.0', user: { id: 'u-alice' }, environment: 'prod' }, 101);
      const b = make({ version: '1.1', user: { id: 'u-bob' }, environment: 'prod' }, 202);
      const c = make({ version: '1.1', user: { id: 'u-bob' }, environment: 'staging' }, 303);
      await sendPackage([a, b]);
      await sendUpload(c);
      sent.push(a, b, c);
      const list = await admin<GroupListReply>(`${TRIAGE_PATHS.groups}?product=demo&sort=hits`);
      const type = list.groups.find((g) => g.name === 'TypeError');
      assert.ok(type, JSON.stringify(list.groups.map((g) => g.name)));
      assert.equal(type.title, 'Cannot read properties of undefined (reading <str>) for order <n>');
      assert.equal(type.hits, 3);
      assert.equal(type.sessions, 3);
      assert.equal(type.users, 2);
      assert.deepEqual(type.versions, ['1.0', '1.1']);
      assert.deepEqual(type.environments, ['prod', 'staging']);
      assert.equal(type.worst, 'error');
      assert.match(type.example.stack ?? '', /computeTotal/);
      assert.equal(type.spark.length, 14);
      assert.equal(
        type.spark.reduce((x, y) => x + y, 0),
        3,
      );
      const sync = list.groups.find((g) => g.name === 'sync');
      assert.equal(sync?.title, 'sync failed after <n> ms', 'an error without exception is grouped by category and text');
      assert.equal(sync?.sessions, 3);
      assert.equal(list.groups.length, 2, 'information messages make no group');

      const one = await admin<GroupReply>(`${TRIAGE_PATHS.group(type.id)}?from=${clock - DAY}&to=${clock + DAY}&bucket=hour`);
      assert.equal(one.sessions.length, 3);
      assert.deepEqual(new Set(one.sessions.map((s) => s.session.summary.id)), new Set([a, b, c].map((x) => x.summary.id)));
      assert.equal(one.sessions[0].firstSeq, 21, 'links to the message');
      assert.equal(
        one.counts.hits.reduce((x, y) => x + y, 0),
        3,
      );
      const filtered = await admin<GroupListReply>(`${TRIAGE_PATHS.groups}?product=demo&environment=staging`);
      assert.equal(filtered.groups.length, 2, 'session filters select groups hit by matching sessions');
      assert.equal((await admin<GroupListReply>(`${TRIAGE_PATHS.groups}?product=demo&environment=nowhere`)).groups.length, 0);
      await admin(`${TRIAGE_PATHS.group('0'.repeat(32))}`, {}, 404);
      await admin(`${TRIAGE_PATHS.groups}?sort=loudest`, {}, 400);
    });

    test('search finds a message across sessions, with filters, and links to it', async () => {
      const hit = await admin<SearchReply>(`${TRIAGE_PATHS.search}?q=${encodeURIComponent('checkout plain')}&product=demo`);
      assert.equal(hit.hits.length, 3, 'one message per session');
      assert.deepEqual(new Set(hit.hits.map((h) => h.sessionId)), new Set(sent.map((s) => s.summary.id)));
      assert.ok(hit.hits.every((h) => h.seq === 6 && h.severity === 'information' && h.text.startsWith('checkout plain')));
      const prefix = await admin<SearchReply>(`${TRIAGE_PATHS.search}?q=checko&version=1.0`);
      assert.deepEqual(
        prefix.hits.map((h) => h.sessionId),
        [sent[0].summary.id],
        'prefix match, filtered by version',
      );
      const exc = await admin<SearchReply>(`${TRIAGE_PATHS.search}?q=TypeError+total&minSeverity=error&environment=prod`);
      assert.equal(exc.hits.length, 2);
      assert.ok(exc.hits.every((h) => h.seq === 21));
      const bob = await admin<SearchReply>(`${TRIAGE_PATHS.search}?q=order+303&user=u-bob`);
      assert.deepEqual(bob.hits.map((h) => [h.sessionId, h.seq]).slice(0, 1), [[sent[2].summary.id, 21]], 'newest first');
      const timed = await admin<SearchReply>(`${TRIAGE_PATHS.search}?q=checkout&from=${clock + DAY}`);
      assert.equal(timed.hits.length, 0, 'time filter');
      const paged = await admin<SearchReply>(`${TRIAGE_PATHS.search}?q=step&limit=25`);
      assert.equal(paged.hits.length, 25);
      assert.ok(paged.next);
      const rest = await admin<SearchReply>(`${TRIAGE_PATHS.search}?q=step&limit=100&cursor=${paged.next}`);
      // 19 "step" messages in each of the 3 sessions (the sixth is the checkout).
      assert.equal(paged.hits.length + rest.hits.length, 57, 'pages cover every match once');
      assert.equal(new Set([...paged.hits, ...rest.hits].map((h) => `${h.sessionId}:${h.seq}`)).size, 57);
      await admin(`${TRIAGE_PATHS.search}?q=%20%2B%2B`, {}, 400);
      await admin(`${TRIAGE_PATHS.search}`, {}, 400);
      await admin(`${TRIAGE_PATHS.search}?q=x&cursor=nope`, {}, 400);
    });

    test('DELETE a session removes its row, context, group share, search entries, package record and blob', async () => {
      const [a] = sent;
      const stored = await t.collector.store.getSession(a.summary.id);
      const sha = stored?.detail?.sha256;
      assert.ok(sha && (await t.collector.store.blobs.has(sha)));
      const reply = await admin<DeleteReply>(TRIAGE_PATHS.sessions + `/${a.summary.id}`, { method: 'DELETE' });
      assert.deepEqual(reply, { deleted: 1, sessionIds: [a.summary.id] });
      none(await traces(a.summary.id, sha));
      const groups = await admin<GroupListReply>(`${TRIAGE_PATHS.groups}?product=demo`);
      const type = groups.groups.find((g) => g.name === 'TypeError');
      assert.equal(type?.hits, 2, 'the group is recounted');
      assert.deepEqual(type?.versions, ['1.1']);
      assert.notEqual(type?.example.sessionId, a.summary.id, 'the example moves to a remaining session');
      assert.equal((await admin<SearchReply>(`${TRIAGE_PATHS.search}?q=order+101`)).hits.length, 0);
      await admin(TRIAGE_PATHS.sessions + `/${a.summary.id}`, { method: 'DELETE' }, 404);
      await admin(`${TRIAGE_PATHS.sessions}/${a.summary.id}`, {}, 404);
    });

    test('DELETE by user and by installation removes every session of them, and nothing else', async () => {
      const inst = make({ installationId: 'inst-42', user: { id: 'u-carol' } }, 404);
      const keep = make({ user: { id: 'u-dave' } }, 505);
      await sendPackage([inst, keep]);
      const bobSessions = sent.slice(1, 3);
      const shas = await Promise.all(bobSessions.map(async (x) => (await t.collector.store.getSession(x.summary.id))?.detail?.sha256));
      await admin(`${TRIAGE_PATHS.sessions}`, { method: 'DELETE' }, 400);
      const anonymous = await t.req(`${TRIAGE_PATHS.sessions}?user=u-bob`, { method: 'DELETE' });
      assert.equal(anonymous.status, 401, 'deletion needs the admin token');
      const withIngestKey = await t.req(`${TRIAGE_PATHS.sessions}?user=u-bob`, { method: 'DELETE', key: KEYS.all });
      assert.ok([401, 403].includes(withIngestKey.status), 'an ingest key never deletes');
      await admin(`${TRIAGE_PATHS.sessions}?everything=yes`, { method: 'DELETE' }, 400);
      const byUser = await admin<DeleteReply>(`${TRIAGE_PATHS.sessions}?user=u-bob`, { method: 'DELETE' });
      assert.deepEqual(new Set(byUser.sessionIds), new Set(bobSessions.map((x) => x.summary.id)));
      for (const [i, x] of bobSessions.entries()) none(await traces(x.summary.id, shas[i]));
      const byInst = await admin<DeleteReply>(`${TRIAGE_PATHS.sessions}?installation=inst-42`, { method: 'DELETE' });
      assert.deepEqual(byInst.sessionIds, [inst.summary.id]);
      none(await traces(inst.summary.id));
      assert.ok(await t.collector.store.getSession(keep.summary.id), 'another user keeps their session');
      assert.equal((await admin<SearchReply>(`${TRIAGE_PATHS.search}?q=order+505`)).hits.length, 2);
      const groups = await admin<GroupListReply>(`${TRIAGE_PATHS.groups}?product=demo`);
      assert.deepEqual(
        groups.groups.map((g) => g.sessions),
        [1, 1],
        'only the kept session is counted',
      );
      // The kept session's package lost the other session but stays, listing only what remains.
      const pk = await db.all<{ session_ids: string }>('SELECT session_ids FROM packages WHERE session_ids LIKE ?', [`%${keep.summary.id}%`]);
      assert.deepEqual(JSON.parse(pk[0].session_ids), [keep.summary.id]);
      sent.length = 0;
      sent.push(keep);
    });

    test('retention deletes exactly the sessions past the age limit and, per product, past the byte limit', async () => {
      // Age: demo keeps 30 days. One session received 31 days before "now", one 29 days before.
      const start = clock;
      const old = make({}, 601, 'aged');
      await sendPackage([old]);
      clock = start + 2 * DAY;
      const young = make({}, 602, 'aged');
      await sendPackage([young]);
      // Bytes: "other" keeps 6000 bytes, newest first.
      const others: Sent[] = [];
      for (let i = 0; i < 6; i++) {
        clock += 1000;
        const x = make({ product: 'other' }, 700 + i, 'sized');
        others.push(x);
        await sendUpload(x, KEYS.other);
      }
      const rows = await db.all<{ id: string; b: number }>(
        'SELECT id, COALESCE(detail_compressed, 0) + LENGTH(summary) AS b FROM sessions WHERE product = ? ORDER BY received_at DESC, id DESC',
        ['other'],
      );
      let total = 0;
      const expectKept = new Set<string>();
      for (const r of rows) {
        total += Number(r.b);
        if (total <= 6000) expectKept.add(r.id);
      }
      assert.ok(expectKept.size > 0 && expectKept.size < others.length, `the limit splits the sessions (${rows.map((r) => r.b)})`);
      const oldSha = (await t.collector.store.getSession(old.summary.id))?.detail?.sha256;

      clock = start + 31 * DAY + 1;
      const reply = await admin<RetentionReply>(TRIAGE_PATHS.retention, { method: 'POST' });
      const demo = reply.products.find((p) => p.product === 'demo');
      const other = reply.products.find((p) => p.product === 'other');
      // The session kept from the deletion test was received at `start` too: it ages out with `old`.
      assert.deepEqual(demo && [demo.byAge, demo.byBytes], [2, 0]);
      assert.deepEqual(other && [other.byAge, other.byBytes], [0, others.length - expectKept.size]);
      none(await traces(old.summary.id, oldSha));
      assert.ok(await t.collector.store.getSession(young.summary.id), 'the younger session stays');
      const left = await t.collector.store.listSessions({ product: 'other', limit: 100 });
      assert.deepEqual(new Set(left.sessions.map((s) => s.summary.id)), expectKept);
      const search = await admin<SearchReply>(`${TRIAGE_PATHS.search}?q=sized`);
      assert.deepEqual(new Set(search.hits.map((h) => h.sessionId)), expectKept, 'search entries went with the sessions');
      const again = await admin<RetentionReply>(TRIAGE_PATHS.retention, { method: 'POST' });
      assert.ok(
        again.products.every((p) => p.byAge + p.byBytes + p.packages === 0),
        'a second run finds nothing',
      );
    });

    test('a blob left by a crash between deleting rows and removing the file is removed at the next run', async () => {
      const x = make({}, 901, 'crash');
      await sendPackage([x]);
      const sha = (await t.collector.store.getSession(x.summary.id))?.detail?.sha256;
      assert.ok(sha);
      // As if the process died after the transaction: rows gone, tombstone written, file still there.
      await db.run('DELETE FROM sessions WHERE id = ?', [x.summary.id]);
      await db.run('INSERT INTO blob_deletions (sha256, at) VALUES (?, ?)', [sha, clock]);
      assert.ok(await t.collector.store.blobs.has(sha));
      await admin<RetentionReply>(TRIAGE_PATHS.retention, { method: 'POST' });
      assert.equal(await t.collector.store.blobs.has(sha), false);
      assert.equal((await db.all('SELECT sha256 FROM blob_deletions')).length, 0);
    });
  });
};

suite('embedded (SQLite + files)', async () => ({ over: {}, cleanup: async () => {} }));

let pg: TestPostgres | undefined;
suite('PostgreSQL + files', async () => {
  pg = await startPostgres();
  return { over: { store: { kind: 'postgres', url: pg.url, poolSize: 4 } }, cleanup: async () => pg?.stop() };
});

test('detail stored while indexing was off (or before a crash) is indexed at the next start-up', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-catchup-'));
  try {
    const first = await startTestCollector({ dir, over: { indexing: false } });
    const s = makeSummary({ counts: countsWith({ error: 2, information: 20 }) });
    const messages = sessionMessages(s, { orderId: 4242, word: 'later' });
    const res = await first.req(PATHS.packages, {
      method: 'POST',
      key: KEYS.all,
      headers: { 'content-type': 'application/zip' },
      body: makePackage([{ summary: { ...s, lastSeq: messages.length, messageCount: messages.length }, messages }]) as Uint8Array<ArrayBuffer>,
    });
    assert.equal(res.status, 200);
    const none = await first.req(`${TRIAGE_PATHS.search}?q=later`, { admin: true });
    assert.equal(((await none.json()) as SearchReply).hits.length, 0, 'not indexed while off');
    await first.close();
    const second = await startTestCollector({ dir });
    await second.collector.ready;
    const found = (await (await second.req(`${TRIAGE_PATHS.search}?q=later`, { admin: true })).json()) as SearchReply;
    assert.deepEqual(
      found.hits.map((h) => h.sessionId),
      [s.id],
    );
    assert.equal(((await (await second.req(TRIAGE_PATHS.groups, { admin: true })).json()) as GroupListReply).groups.length, 2);
    await second.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
