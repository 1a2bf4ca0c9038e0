// A database left by the previous agent (schema version 1, where the sending side's fields lived on
// the session record) is migrated to version 2 when the agent opens it: every session and message
// stays, the sending side's fields move to the `delivery` store, and nothing already sent is sent
// again.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Page } from 'playwright-core';
import { openAgentPage } from '../support/agentPage.js';
import { until } from '../support/browser.js';
import { useBrowserServerAndCollector } from '../support/e2e.js';
import { KEYS } from '../unit/server/harness.js';

const PRODUCT = 'legacy';
const e2e = useBrowserServerAndCollector(() => ({ products: { [PRODUCT]: { policy: 'all', keys: [{ key: KEYS.all, origins: ['*'] }] } } }));

const V1_FIELDS = ['summarySentAt', 'detailState', 'sentAt', 'packagedAt', 'parked', 'forceSend'];

/** The sessions of the version-1 fixture, by role. */
type Role = 'neverSent' | 'sent' | 'notWanted' | 'packaged' | 'parked' | 'forced';
interface Fixture {
  ids: Record<Role, string>;
  /** Each session's record as version 1 stored it. */
  records: Record<string, Record<string, unknown>>;
  /** Each session's NDJSON lines, parsed. */
  messages: Record<string, { seq: number; text: string; details?: unknown }[]>;
  at: number;
}

/**
 * Creates `ferry:<product>` at version 1 with the raw IndexedDB API, exactly as the previous agent
 * did (src/core/db/repository.ts before the delivery store), and fills it.
 */
const createV1 = (page: Page): Promise<Fixture> =>
  page.evaluate(async (product) => {
    const req = <T>(r: IDBRequest<T>) =>
      new Promise<T>((resolve, reject) => {
        r.onsuccess = () => resolve(r.result);
        r.onerror = () => reject(r.error);
      });
    const at = Date.now();
    const open = indexedDB.open(`ferry:${product}`, 1);
    open.onupgradeneeded = () => {
      const db = open.result;
      const sessions = db.createObjectStore('sessions', { keyPath: 'id' });
      sessions.createIndex('by-app', 'application');
      sessions.createIndex('by-status', 'status');
      sessions.createIndex('by-detailState', 'detailState');
      sessions.createIndex('by-start', 'startedAt');
      db.createObjectStore('chunks', { keyPath: ['sessionId', 'seq'] });
      db.createObjectStore('outbox', { keyPath: 'sessionId' });
      db.createObjectStore('meta');
    };
    const db = await req(open);

    const roles = ['neverSent', 'sent', 'notWanted', 'packaged', 'parked', 'forced'] as const;
    // What the sending side knew of each, in version 1's fields on the session record.
    const v1: Record<(typeof roles)[number], Record<string, unknown>> = {
      neverSent: { status: 'ended', detailState: 'none' },
      sent: { status: 'ended', detailState: 'sent', summarySentAt: at - 50_000, sentAt: at - 49_000 },
      notWanted: { status: 'crashed', detailState: 'not-wanted', summarySentAt: at - 40_000 },
      packaged: { status: 'ended', detailState: 'none', packagedAt: at - 30_000 },
      parked: { status: 'ended', detailState: 'none', parked: 'posting summaries to http://old.example/: 400 bad-request' },
      // Handed to the service worker at exit (sendSessionsOnExit), not yet delivered.
      forced: { status: 'ended', detailState: 'none', forceSend: true },
    };
    const ids = {} as Record<(typeof roles)[number], string>;
    const records: Record<string, Record<string, unknown>> = {};
    const messages: Record<string, { seq: number; text: string; details?: unknown }[]> = {};
    const tx = db.transaction(['sessions', 'chunks', 'meta'], 'readwrite');
    roles.forEach((role, i) => {
      const startedAt = at - 600_000 + i * 60_000;
      const id = W().Inspect.idAt(startedAt);
      ids[role] = id;
      const n = 4 + 3 * i;
      const counts = { critical: 0, error: 1, warning: 0, information: n - 1, verbose: 0 };
      const lines = Array.from({ length: n }, (_, k) => {
        const seq = k + 1;
        const m = {
          sessionId: id,
          seq,
          time: startedAt + seq * 100,
          severity: seq === n ? 'error' : 'information',
          category: 'Legacy',
          text: `${role} message ${seq}`,
          details: { role, seq, tags: ['v1'] },
        };
        return JSON.stringify(m) + '\n';
      });
      // Two chunks per session, as two batches wrote them.
      const half = Math.ceil(n / 2);
      const bytes = lines.join('').length;
      for (const [from, to] of [
        [0, half],
        [half, n],
      ]) {
        const part = lines.slice(from, to);
        const c = { critical: 0, error: 0, warning: 0, information: 0, verbose: 0 };
        for (const l of part) c[JSON.parse(l).severity as 'error' | 'information']++;
        tx.objectStore('chunks').put({
          sessionId: id,
          seq: from + 1,
          lastSeq: to,
          count: to - from,
          counts: c,
          bytes: part.join('').length,
          text: part.join(''),
        });
      }
      const record = {
        id,
        product,
        application: i % 2 ? 'viewer' : 'editor',
        version: '0.9',
        startedAt,
        endedAt: startedAt + 30_000,
        counts,
        messageCount: n,
        lastSeq: n,
        bytes,
        userAgent: navigator.userAgent,
        url: location.href,
        agentVersion: '0.1.0',
        persistence: 'indexeddb',
        dropped: { beforeLog: 0, overflow: 0, pruned: 0, prunedSessions: 0, prunedMessages: 0 },
        heartbeatAt: startedAt + 30_000,
        ...v1[role],
      };
      tx.objectStore('sessions').put(record);
      records[id] = record;
      messages[id] = lines.map((l) => {
        const m = JSON.parse(l);
        return { seq: m.seq, text: m.text, details: m.details };
      });
    });
    tx.objectStore('meta').put({ granted: true, at: at - 100_000 }, 'consent');
    tx.objectStore('meta').put(
      { url: 'http://old.example/', ingestKey: 'old-key', product, application: 'editor', purge: false, autoSend: true },
      'sendTarget',
    );
    await new Promise((resolve, reject) => {
      tx.oncomplete = resolve;
      tx.onerror = () => reject(tx.error);
    });
    db.close();
    return { ids, records, messages, at };
  }, PRODUCT);

interface RawDump {
  version: number;
  stores: string[];
  sessionIndexes: string[];
  sessions: Record<string, unknown>[];
  delivery: Record<string, unknown>[];
  messages: { sessionId: string; seq: number; text: string; details?: unknown }[];
  meta: Record<string, unknown>;
}

/** Everything in the database, read with the raw API at its current version (no version asked). */
const dump = (page: Page): Promise<RawDump> =>
  page.evaluate(async (product) => {
    const req = <T>(r: IDBRequest<T>) =>
      new Promise<T>((resolve, reject) => {
        r.onsuccess = () => resolve(r.result);
        r.onerror = () => reject(r.error);
      });
    const db = await req(indexedDB.open(`ferry:${product}`));
    const stores = [...db.objectStoreNames];
    const tx = db.transaction(stores, 'readonly');
    const all = (name: string) => (stores.includes(name) ? req(tx.objectStore(name).getAll()) : Promise.resolve([]));
    const [sessions, delivery, chunks, metaKeys, metaValues] = await Promise.all([
      all('sessions'),
      all('delivery'),
      all('chunks'),
      req(tx.objectStore('meta').getAllKeys()),
      req(tx.objectStore('meta').getAll()),
    ]);
    const out = {
      version: db.version,
      stores,
      sessionIndexes: [...tx.objectStore('sessions').indexNames],
      sessions,
      delivery,
      messages: (chunks as { text: string }[]).flatMap((c) =>
        c.text
          .split('\n')
          .filter(Boolean)
          .map((l) => {
            const m = JSON.parse(l);
            return { sessionId: m.sessionId, seq: m.seq, text: m.text, details: m.details };
          }),
      ),
      meta: Object.fromEntries((metaKeys as string[]).map((k, i) => [k, metaValues[i]])),
    };
    db.close();
    return out;
  }, PRODUCT);

/** Starts the agent on the migrated product; with `server`, pointed at the collector but not sending. */
const startAgent = (page: Page, server: boolean) =>
  page.evaluate(
    async ([product, url, key, server]) => {
      const w = window as unknown as { states: { phase: string; queued: number }[] };
      w.states = [];
      W().Ferry.on('state', (s) => w.states.push({ phase: s.phase, queued: s.queued }));
      W().Ferry.init({ product, application: 'editor', version: '1.0', ...(server ? { server: { url, ingestKey: key, autoSendSessions: false } } : {}) });
      await W().Ferry.ready();
      return W().Ferry.getSessionId()!;
    },
    [PRODUCT, e2e.collector.collector.url, KEYS.all, server] as const,
  );

const preview = (page: Page, criteria: string[]) =>
  page.evaluate(async (criteria) => (await W().Ferry.packager.preview({ criteria: criteria as never })).map((s) => s.id).sort(), criteria);

test('a version-1 database is migrated: sessions and messages kept, the sending side moved to `delivery`, criteria unchanged', async () => {
  const context = await e2e.browser.newContext();
  const page = await openAgentPage(context, e2e.server.url);
  const v1 = await createV1(page);
  const { ids } = v1;
  const before = await dump(page);
  assert.equal(before.version, 1);
  assert.deepEqual(before.sessionIndexes.sort(), ['by-app', 'by-detailState', 'by-start', 'by-status']);

  const me = await startAgent(page, false);
  const after = await dump(page);

  assert.equal(after.version, 2, 'migrated to version 2');
  assert.deepEqual(after.stores.sort(), ['chunks', 'delivery', 'meta', 'outbox', 'sessions']);
  assert.deepEqual(after.sessionIndexes.sort(), ['by-app', 'by-status'], "version 1's unused indexes dropped");

  // Every session is still there with all its messages, and its own fields unchanged.
  const byId = new Map(after.sessions.map((s) => [s.id as string, s]));
  assert.deepEqual([...byId.keys()].sort(), [...Object.values(ids), me].sort(), "the six old sessions and the agent's own");
  for (const [id, old] of Object.entries(v1.records)) {
    const now = byId.get(id)!;
    const expected = Object.fromEntries(Object.entries(old).filter(([k]) => !V1_FIELDS.includes(k)));
    assert.deepEqual(now, expected, `session ${id}: the recording side's fields as they were, and nothing else`);
    for (const k of V1_FIELDS) assert.ok(!(k in now), `session ${id} no longer carries ${k}`);
    const got = after.messages.filter((m) => m.sessionId === id).map(({ sessionId: _s, ...m }) => m);
    assert.deepEqual(got, v1.messages[id], `session ${id}: every message, with its details`);
  }
  const me_ = byId.get(me)!;
  for (const k of V1_FIELDS) assert.ok(!(k in me_), `the new session carries no ${k}`);

  // One delivery row for each session the sending side had touched, with what it knew.
  const rows = new Map(after.delivery.map((d) => [d.sessionId as string, d]));
  assert.deepEqual(
    [...rows.keys()].sort(),
    [ids.sent, ids.notWanted, ids.packaged, ids.parked, ids.forced].sort(),
    'no row for the never-sent session nor the new one',
  );
  const r = (role: Role) => {
    const { updatedAt, ...row } = rows.get(ids[role])!;
    assert.equal(typeof updatedAt, 'number');
    return row;
  };
  const rec = (role: Role) => v1.records[ids[role]] as { lastSeq: number; status: string; summarySentAt?: number; sentAt?: number; packagedAt?: number };
  assert.deepEqual(r('sent'), {
    sessionId: ids.sent,
    lastOp: 'migrated',
    summarySentAt: rec('sent').summarySentAt,
    summaryStatus: 'ended',
    summarySeq: rec('sent').lastSeq,
    detailState: 'sent',
    sentAt: rec('sent').sentAt,
    sentSeq: rec('sent').lastSeq,
  });
  assert.deepEqual(r('notWanted'), {
    sessionId: ids.notWanted,
    lastOp: 'migrated',
    summarySentAt: rec('notWanted').summarySentAt,
    summaryStatus: 'crashed',
    summarySeq: rec('notWanted').lastSeq,
    detailState: 'not-wanted',
  });
  assert.deepEqual(r('packaged'), {
    sessionId: ids.packaged,
    lastOp: 'migrated',
    packagedAt: rec('packaged').packagedAt,
    packagedSeq: rec('packaged').lastSeq,
  });
  assert.deepEqual(r('parked'), { sessionId: ids.parked, lastOp: 'migrated', parked: v1.records[ids.parked].parked });
  assert.deepEqual(r('forced'), { sessionId: ids.forced, lastOp: 'migrated', forceSend: true });

  // meta is as it was: the consent answer (and the agent reads it), the old send target.
  assert.deepEqual(after.meta.consent, before.meta.consent);
  assert.deepEqual(after.meta.sendTarget, before.meta.sendTarget);
  assert.equal(await page.evaluate(() => W().Ferry.getConsent()), true);

  // The packager chooses as version 1 did. `new` was `sentAt == null && packagedAt == null &&
  // detailState !== 'sent'` (src/core/package/criteria.ts before the delivery store): the
  // never-sent, parked and forced sessions, and the crashed one whose detail the server declined.
  const v1New = Object.values(v1.records)
    .filter((s) => s.sentAt == null && s.packagedAt == null && s.detailState !== 'sent')
    .map((s) => s.id as string)
    .sort();
  assert.deepEqual(v1New, [ids.neverSent, ids.notWanted, ids.parked, ids.forced].sort());
  assert.deepEqual(await preview(page, ['new']), v1New, '`new`: neither the sent nor the packaged session');
  assert.deepEqual(await preview(page, ['crashed']), [ids.notWanted]);
  assert.deepEqual(await preview(page, ['completed']), Object.values(ids).sort(), 'every old session is over; the running one is not');
  await context.close();
});

test('after migration, sending skips what version 1 had sent or declined, tries once more what it parked, and sends the rest once', async () => {
  const context = await e2e.browser.newContext();
  const page = await openAgentPage(context, e2e.server.url);
  const { ids, messages } = await createV1(page);
  await startAgent(page, true);
  assert.equal((await dump(page)).version, 2);

  const detailsStored = (id: string) => e2e.collector.logs.filter((r) => r.msg === 'detail stored' && r.session === id).length;
  await page.evaluate(
    () =>
      new Promise<void>((resolve) => {
        const off = W().Ferry.on('state', (s) => {
          if (s.leader) {
            off();
            W().Ferry.sendNow();
            resolve();
          }
        });
        // The fixture's sessions belong to two applications of the product.
        W().Ferry.configure({ server: { autoSendSessions: true, sendAllApplications: true } });
      }),
  );
  // Version 1 parked a session without saying which agent version did: a new version tries it once more.
  const expected = [ids.neverSent, ids.packaged, ids.forced, ids.parked];
  await until(
    async () => {
      if (expected.every((id) => detailsStored(id) === 1)) return true;
      const states = await page.evaluate(() => (window as unknown as { states: unknown[] }).states);
      throw new Error(JSON.stringify({ stored: expected.map(detailsStored), states, delivery: (await dump(page)).delivery }));
    },
    'the never-sent, packaged-only, forced and once-parked sessions at the collector',
    20_000,
  );
  // Then the sender's queue is empty: nothing else is waiting.
  const idle = await page.evaluate(
    () =>
      new Promise<{ phase: string; queued: number }>((resolve) => {
        const off = W().Ferry.on('state', (s) => {
          if (s.phase === 'idle' || s.phase === 'offline' || s.phase === 'waiting') {
            off();
            resolve({ phase: s.phase, queued: s.queued });
          }
        });
        W().Ferry.sendNow();
      }),
  );
  assert.deepEqual(idle, { phase: 'idle', queued: 0 });

  for (const role of ['sent', 'notWanted'] as const)
    assert.equal(await e2e.collector.collector.store.getSession(ids[role]), undefined, `the ${role} session is not sent again (not even its summary)`);
  for (const id of expected) {
    const s = await e2e.collector.collector.store.getSession(id);
    assert.equal(s?.detail?.messageCount, messages[id].length, 'the whole session');
    assert.equal(detailsStored(id), 1, 'sent once');
  }
  assert.equal((await e2e.collector.collector.store.getSession(ids.forced))?.summary.force, true, 'the forced session still asks for its detail');

  const after = await dump(page);
  const rows = new Map(after.delivery.map((d) => [d.sessionId as string, d]));
  for (const id of expected) assert.equal(rows.get(id)?.detailState, 'sent');
  assert.equal(rows.get(ids.sent)?.lastOp, 'migrated', 'the sent session’s row untouched');
  assert.equal(rows.get(ids.parked)?.parked, undefined, 'un-parked (unpark-new-agent), then sent');
  await context.close();
});
