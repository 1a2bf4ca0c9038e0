/**
 * Every text field through both stores: a NUL (U+0000) or a lone surrogate in any string gives the
 * same answer on SQLite and PostgreSQL (PostgreSQL refuses U+0000 in text; before, that was a 500
 * the agent retried for ever). They are stored as U+FFFD; the detail blob keeps its bytes.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { wellFormed, wellFormedJson } from '../../../src/server/well-formed.js';
import type { LogMessage } from '../../../src/shared/message.js';
import { ADMIN_PATHS, type GroupListReply, PATHS, type PackageListReply, type SearchReply, TRIAGE_PATHS } from '../../../src/shared/protocol.js';
import type { SessionSummary } from '../../../src/shared/summary.js';
import { startPostgres, type TestPostgres } from '../../support/postgres.js';
import { countsWith, makeDetail, makePackage, makeSummary } from './fixtures.js';
import { createUpload, KEYS, startTestCollector, type TestCollector, uploadAll } from './harness.js';

const NUL = '\u0000';
const HIGH = '\ud800'; // a high surrogate with no low one after it
const LOW = '\udc00'; // a low surrogate with no high one before it
const R = '\uFFFD';
/** A text with every ill-formed kind, and what it is stored as. */
const bad = (word: string): string => `${word}${NUL}x${HIGH}y${LOW}z`;
const good = (word: string): string => `${word}${R}x${R}y${R}z`;

test('wellFormed replaces NUL and lone surrogates only; pairs and other text are kept', () => {
  assert.equal(wellFormed(bad('a')), good('a'));
  assert.equal(wellFormed('emoji 😀 ok'), 'emoji 😀 ok');
  assert.equal(wellFormed(`${HIGH}${HIGH}\udc01`), `${R}${HIGH}\udc01`);
  assert.equal(wellFormed(`end${HIGH}`), `end${R}`);
  assert.equal(wellFormed(`${LOW}start`), `${R}start`);
  const clean = { a: ['b', { c: 'd' }] };
  assert.equal(wellFormedJson(clean), clean, 'clean JSON is returned as is');
  assert.deepEqual(wellFormedJson({ [`k${NUL}`]: [`v${NUL}`, { n: 1 }], __proto__x: null }), { [`k${R}`]: [`v${R}`, { n: 1 }], __proto__x: null });
  const proto = wellFormedJson(JSON.parse(`{"__proto__": "p${'\\u0000'}"}`)) as Record<string, unknown>;
  assert.equal(Object.getOwnPropertyDescriptor(proto, '__proto__')?.value, `p${R}`, '"__proto__" stays a key');
});

const suite = (name: string, storeOver: () => Promise<{ over: Record<string, unknown>; cleanup(): Promise<void> }>): void => {
  describe(`NUL and lone surrogates in every text field: ${name}`, () => {
    let t: TestCollector;
    let cleanup: () => Promise<void>;
    before(async () => {
      const s = await storeOver();
      cleanup = s.cleanup;
      t = await startTestCollector({ over: s.over });
      await t.collector.ready;
    });
    after(async () => {
      await t?.close();
      await cleanup?.();
    });

    const summaryWithBadText = (): SessionSummary =>
      ({
        ...makeSummary({
          application: bad('app'),
          version: bad('1.0'),
          userAgent: bad('agent'),
          url: bad('https://app.example.com/'),
          agentVersion: bad('0.1'),
          user: { id: bad('user'), name: bad('Ada'), email: bad('ada@example.com') },
          context: { plan: bad('pro'), region: 'eu' },
          counts: countsWith({ error: 2 }),
        }),
        // An unknown field from a newer agent is kept, with its text made well formed.
        [`color${NUL}`]: { shade: bad('blue'), list: [bad('x')] },
      }) as SessionSummary;

    const errorLogs = () => t.logs.filter((r) => r.level === 'error');

    test('summaries: 200, every string stored with U+FFFD, found by its filters', async () => {
      const s = summaryWithBadText();
      const reply = await t.summaries([s]);
      assert.equal(reply.sessions[0].detail, 'wanted');
      const stored = await t.collector.store.getSession(s.id);
      assert.ok(stored);
      const sum = stored.summary;
      assert.equal(sum.application, good('app'));
      assert.equal(sum.version, good('1.0'));
      assert.equal(sum.userAgent, good('agent'));
      assert.equal(sum.url, good('https://app.example.com/'));
      assert.equal(sum.agentVersion, good('0.1'));
      assert.deepEqual(sum.user, { id: good('user'), name: good('Ada'), email: good('ada@example.com') });
      assert.deepEqual(sum.context, { plan: good('pro'), region: 'eu' });
      assert.deepEqual(stored.extra, { [`color${R}`]: { shade: good('blue'), list: [good('x')] } });

      // The read API's filters take the same text and find it (the filter is made well formed too).
      const q = new URLSearchParams({ user: bad('user'), 'context.plan': bad('pro'), application: bad('app') });
      const res = await t.req(`${ADMIN_PATHS.sessions}?${q}`, { admin: true });
      assert.equal(res.status, 200, await res.clone().text());
      const list = (await res.json()) as { sessions: { summary: { id: string } }[] };
      assert.deepEqual(
        list.sessions.map((x) => x.summary.id),
        [s.id],
      );
      assert.deepEqual(errorLogs(), []);
    });

    test('summaries: token fields (environment, installation, context keys) refuse them with 400 on both stores', async () => {
      for (const over of [{ environment: bad('prod') }, { installationId: bad('inst') }, { context: { [bad('plan')]: 'x' } }]) {
        const s = makeSummary(over);
        const res = await t.req(PATHS.summaries, {
          method: 'POST',
          key: KEYS.all,
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ product: 'demo', sentAt: Date.now(), sessions: [s] }),
        });
        assert.equal(res.status, 400, JSON.stringify(over));
        assert.equal(((await res.json()) as { error: string }).error, 'invalid-field');
      }
    });

    const badMessages = (s: SessionSummary): LogMessage[] => [
      { sessionId: s.id, seq: 1, time: s.startedAt, severity: 'information', category: bad('ui'), text: bad('clicked'), details: { [bad('k')]: bad('v') } },
      {
        sessionId: s.id,
        seq: 2,
        time: s.startedAt + 1,
        severity: 'error',
        category: bad('window.onerror'),
        text: bad('Uncaught'),
        exception: { name: bad('TypeError'), message: bad('boom'), stack: `${bad('TypeError')}\n    at ${bad('f')} (https://app.example.com/a.js:1:2)` },
      },
      { sessionId: s.id, seq: 3, time: s.startedAt + 2, severity: 'error', category: bad('sync'), text: bad('failed') },
    ];

    test('detail by upload: stored (204), its blob byte for byte, indexed for search and groups with U+FFFD', async () => {
      const s = { ...makeSummary({ counts: countsWith({ information: 1, error: 2 }) }), messageCount: 3, lastSeq: 3 };
      await t.summaries([s]);
      const d = makeDetail(badMessages(s));
      const created = await createUpload(t, { sessionId: s.id, length: d.gz.length, sha256: d.sha256 });
      assert.equal(created.status, 201);
      const last = await uploadAll(t, created.headers.get('location')!, d.gz);
      assert.equal(last.status, 204, await last.clone().text());
      assert.equal((await t.collector.store.getSession(s.id))?.detail?.messageCount, 3);
      assert.deepEqual(await t.collector.store.blobs.read(d.sha256), d.gz, 'the blob is what the agent sent');
      await t.collector.indexed();

      const messages = await t.req(ADMIN_PATHS.messages(s.id), { admin: true });
      assert.equal(messages.status, 200);
      assert.match(await messages.text(), /clicked\\u0000x/, 'the messages are read from the blob as sent');

      const search = await t.req(`${TRIAGE_PATHS.search}?q=clicked&product=demo`, { admin: true });
      assert.equal(search.status, 200, await search.clone().text());
      const hits = ((await search.json()) as SearchReply).hits.filter((h) => h.sessionId === s.id);
      assert.equal(hits.length, 1);
      // The index keeps no control character (it drops them) and no NUL or lone surrogate.
      for (const v of [hits[0].category, hits[0].text]) assert.equal(wellFormed(v), v);
      assert.match(hits[0].category, /^ui.*x\uFFFDy\uFFFDz$/);
      assert.match(hits[0].text, /^clicked.*x\uFFFDy\uFFFDz/);

      const groups = (await (await t.req(`${TRIAGE_PATHS.groups}?product=demo`, { admin: true })).json()) as GroupListReply;
      const names = groups.groups.map((g) => g.name).sort();
      // Control characters are dropped from group names; NUL is one, lone surrogates become U+FFFD.
      assert.deepEqual(names, ['syncx\uFFFDy\uFFFDz', 'TypeErrorx\uFFFDy\uFFFDz'].sort());
      for (const g of groups.groups) assert.equal(wellFormed(g.title), g.title);
      assert.deepEqual(errorLogs(), []);
    });

    test('package: summaries, manifest text and messages with them are stored (200), as U+FFFD', async () => {
      const summary = { ...summaryWithBadText(), counts: countsWith({ information: 1, error: 2 }), messageCount: 3, lastSeq: 3 };
      const pkg = makePackage([{ summary, messages: badMessages(summary) }], {
        manifest: { description: bad('It broke'), replyTo: bad('user@example.com') },
      });
      const res = await t.req(PATHS.packages, {
        method: 'POST',
        key: KEYS.all,
        headers: { 'content-type': 'application/zip' },
        body: pkg as Uint8Array<ArrayBuffer>,
      });
      assert.equal(res.status, 200, await res.clone().text());
      const stored = await t.collector.store.getSession(summary.id);
      assert.equal(stored?.summary.userAgent, good('agent'));
      assert.deepEqual(stored?.extra, { [`color${R}`]: { shade: good('blue'), list: [good('x')] } });
      assert.equal(stored?.detail?.messageCount, 3);
      const list = (await (await t.req(ADMIN_PATHS.packages, { admin: true })).json()) as PackageListReply;
      const rec = list.packages.find((p) => p.sessionIds.includes(summary.id));
      assert.equal(rec?.description, good('It broke'));
      assert.equal(rec?.replyTo, good('user@example.com'));
      await t.collector.indexed();
      assert.deepEqual(errorLogs(), []);
    });
  });
};

suite('SQLite', async () => ({ over: {}, cleanup: async () => {} }));

let pg: TestPostgres | undefined;
suite('PostgreSQL', async () => {
  pg = await startPostgres();
  const dir = mkdtempSync(join(tmpdir(), 'ferry-text-'));
  return {
    over: { store: { kind: 'postgres', url: pg.url, poolSize: 4 } },
    cleanup: async () => {
      await pg?.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});
