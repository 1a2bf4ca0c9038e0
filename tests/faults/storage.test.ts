// Faults of the browser's storage, in real Chromium: a real QuotaExceededError (CDP
// Storage.overrideQuotaForOrigin) while a tab logs, and the product database emptied behind the
// agent's back. The app never sees an exception; every message is either delivered or counted
// as lost in the session's loss accounting, which reaches the collector; a reset is reported.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { BrowserContext, Page } from 'playwright-core';
import { AGENT_PAGE, agentLoaded, openAgentPage } from '../support/agentPage.js';
import { until } from '../support/browser.js';
import { KEYS } from '../unit/server/harness.js';
import { readDelivered } from './support/collected.js';
import { useFaultRig } from './support/rig.js';
import { compare, emptyOutcome, record, reportAtEnd, rng, SEED } from './support/tally.js';

reportAtEnd(import.meta.filename);

const PRODUCT = 'faults-storage';
const rig = useFaultRig(PRODUCT);

const init = (page: Page, application: string) =>
  page.evaluate(
    async ([url, key, product, application]) => {
      W().Ferry.init({ product, application, version: '1', server: { url, ingestKey: key, autoSendSessions: true } });
      await W().Ferry.ready();
      return W().Ferry.getSessionId()!;
    },
    [rig.proxy.url, KEYS.all, PRODUCT, application] as const,
  );

/** A second tab that sends what the first left (its first check, or sendNow). */
const sendFrom = async (context: BrowserContext, application: string): Promise<Page> => {
  const page = await openAgentPage(context, rig.server.url);
  await init(page, application);
  await page.evaluate(() => W().Ferry.sendNow());
  return page;
};

test('a real QuotaExceededError while a tab logs: no exception reaches the app, every message is delivered or counted lost, and the count reaches the collector', async () => {
  const r = rng(SEED ^ 0x4001);
  for (let round = 0; round < 2; round++) {
    const context = await rig.browser.newContext();
    // Chromium latches an origin's quota when it first opens IndexedDB: set before the page loads.
    const page = await context.newPage();
    const cdp = await context.newCDPSession(page);
    const quota = r.int(2_400_000, 3_200_000);
    await cdp.send('Storage.overrideQuotaForOrigin', { origin: rig.server.url, quotaSize: quota });
    await page.goto(rig.server.url + AGENT_PAGE);
    await agentLoaded(page);
    const pageErrors: string[] = [];
    page.on('pageerror', (e) => pageErrors.push(e.message));
    const id = await init(page, 'editor');
    // Bursts go on until the quota has cut something (at most 60, ~10 MB), then a few more, so
    // every round writes past the quota whatever size the seed gave it.
    const extra = r.int(1, 4);
    const logged = await page.evaluate(async (extra) => {
      let threw = 0;
      let n = 0;
      let after = -1;
      const lossSoFar = () => {
        const d = W().Ferry.getSessionSummary()!.dropped;
        return d.overflow + d.pruned;
      };
      // Random bytes, so LevelDB's compression cannot shrink them under the quota.
      const noise = () => btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(600))));
      for (let b = 0; b < 60 && after < extra; b++) {
        try {
          for (let i = 0; i < 200; i++, n++) W().Ferry.log.information('Fill', `${b}:${i}:${noise()}`, { b, i });
        } catch {
          threw++;
        }
        await W().Ferry.flush();
        if (after >= 0 || lossSoFar() > 0) after++;
      }
      W().Ferry.log.warning('Final', 'still logging');
      n++;
      await W().Ferry.flush();
      return { threw, n, dropped: W().Ferry.getSessionSummary()!.dropped };
    }, extra);
    assert.equal(logged.threw, 0, 'no log call threw');
    assert.deepEqual(pageErrors, [], 'no error reached the page');
    const lost = logged.dropped.overflow + logged.dropped.pruned;
    assert.ok(lost > 0, `the quota (${quota} bytes) was hit: messages were lost (${JSON.stringify(logged.dropped)})`);
    await page.close();
    const sender = await sendFrom(context, 'editor');
    const stored = await until(
      async () => {
        const s = await rig.t.collector.store.getSession(id);
        return s?.detail && s.summary.status === 'ended' ? s : undefined;
      },
      `the session at the collector (seed ${SEED})`,
      60_000,
      100,
    );
    const delivered = (await readDelivered(rig.t.collector.store, [id], rig.t.logs)).get(id);
    assert.ok(delivered);
    assert.equal(stored.summary.dropped.overflow + stored.summary.dropped.pruned, lost, 'the loss accounting reached the collector');
    assert.equal(delivered.seqs.length + lost, logged.n, 'every message delivered or counted lost');
    assert.equal(new Set(delivered.seqs).size, delivered.seqs.length, 'none twice');
    assert.equal(delivered.stores, 1, 'uploaded once');
    // A message the quota kept out but the accounting counted is not lost: lost means neither delivered nor counted.
    const o = emptyOutcome();
    o.sessions = { expected: 1, delivered: 1, duplicated: delivered.stores > 1 ? 1 : 0 };
    const unique = new Set(delivered.seqs).size;
    o.messages = { expected: logged.n, delivered: unique, lost: logged.n - unique - lost, duplicated: delivered.seqs.length - unique };
    record('QuotaExceededError (lost = not counted)', 1, o);
    await sender.close();
    await context.close();
  }
});

test('the product database emptied behind the agent: the next summary reports it, and nothing logged after is lost', async () => {
  const r = rng(SEED ^ 0x4002);
  for (let round = 0; round < 2; round++) {
    const context = await rig.browser.newContext();
    // Sessions that ended with no sender (no server), then the whole database deleted.
    const before = r.int(1, 3);
    for (let i = 0; i < before; i++) {
      const p = await openAgentPage(context, rig.server.url);
      await p.evaluate(async (product) => {
        W().Ferry.init({ product, application: 'editor', version: '1' });
        await W().Ferry.ready();
        W().Ferry.log.information('Work', 'before the reset', { i: 1 });
        await W().Ferry.flush();
      }, PRODUCT);
      await p.close();
    }
    const wiper = await openAgentPage(context, rig.server.url);
    await wiper.evaluate(
      (name) =>
        new Promise<void>((resolve, reject) => {
          const req = indexedDB.deleteDatabase(name);
          req.onsuccess = () => resolve();
          req.onerror = () => reject(req.error);
        }),
      `ferry:${PRODUCT}`,
    );
    await wiper.close();
    // A session after the reset: it logs, ends, and a second tab sends it.
    const page = await openAgentPage(context, rig.server.url);
    const id = await init(page, 'editor');
    const n = r.int(20, 300);
    await page.evaluate(async (n) => {
      for (let i = 0; i < n; i++) W().Ferry.log.information('Work', `after the reset ${i}`, { i });
      await W().Ferry.flush();
    }, n);
    await page.close();
    const sender = await sendFrom(context, 'editor');
    const stored = await until(
      async () => {
        const s = await rig.t.collector.store.getSession(id);
        return s?.detail ? s : undefined;
      },
      `the session after the reset at the collector (seed ${SEED})`,
      60_000,
      100,
    );
    assert.ok(stored.summary.storageReset, 'the summary reports the reset');
    assert.ok(
      stored.summary.storageReset.sessionsBefore >= before,
      `sessions known before the reset (${stored.summary.storageReset.sessionsBefore} ≥ ${before})`,
    );
    const o = compare(new Map([[id, n]]), await readDelivered(rig.t.collector.store, [id], rig.t.logs));
    assert.deepEqual({ lost: o.messages.lost, duplicated: o.messages.duplicated, sessions: o.sessions.delivered }, { lost: 0, duplicated: 0, sessions: 1 });
    record('IndexedDB emptied behind the agent', 1, o);
    await sender.close();
    await context.close();
  }
});

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i + 1);

type Tier = 'sent' | 'information' | 'warning' | 'error';
/** The pruning order of docs/storage.md: sent sessions, then unsent information-only, warnings, errors; oldest first in each. */
const TIER_ORDER: Record<Tier, number> = { sent: 0, information: 1, warning: 2, error: 3 };

/**
 * An ended (or crashed) session as the recording tab leaves it, with one chunk of `chars`
 * characters of NDJSON whose severities match its counts; `sent`: the server confirmed it whole.
 */
const oldSession = (id: string, o: { startedAt: number; n: number; chars: number; tier: Tier; status: 'ended' | 'crashed'; sent: boolean }) => {
  const counts = { critical: 0, error: 0, warning: 0, information: 0, verbose: 0 };
  const n = o.n;
  const severities = Array.from({ length: n }, (_, i): keyof typeof counts => {
    if (o.tier === 'error' && i === 2) return 'error';
    if ((o.tier === 'error' || o.tier === 'warning') && i === 1) return 'warning';
    return 'information';
  });
  for (const s of severities) counts[s]++;
  const per = Math.floor(o.chars / n);
  const lines = severities.map((severity, i) => {
    const head = JSON.stringify({ sessionId: id, seq: i + 1, time: o.startedAt + i, severity, category: 'Old', text: '' });
    let text = '';
    while (text.length < per - head.length - 1) text += Math.random().toString(36).slice(2);
    return head.replace('"text":""', `"text":"${text.slice(0, Math.max(0, per - head.length - 1))}"`);
  });
  const text = `${lines.join('\n')}\n`;
  return {
    id,
    product: PRODUCT,
    application: 'editor',
    version: '1',
    status: o.status,
    startedAt: o.startedAt,
    endedAt: o.startedAt + 60_000,
    counts,
    messageCount: n,
    lastSeq: n,
    bytes: text.length,
    userAgent: 'fixture',
    url: 'http://fixture/',
    agentVersion: '0.1.0',
    persistence: 'indexeddb',
    dropped: { beforeLog: 0, overflow: 0, pruned: 0, prunedSessions: 0, prunedMessages: 0 },
    heartbeatAt: o.startedAt + 60_000,
    ...(o.sent ? { sentAt: o.startedAt + 61_000 } : {}),
    text,
  };
};

test('a small maxLocalBytes under old sessions of every kind while a tab logs: the pruning order holds, every drop is counted and reaches the collector', async () => {
  const r = rng(SEED ^ 0x4003);
  const DAY = 86_400_000;
  for (let round = 0; round < 3; round++) {
    const context = await rig.browser.newContext();
    const setup = await openAgentPage(context, rig.server.url);
    const now = Date.now();
    // 5–7 old sessions, 1–10 days old (within maxLocalAgeDays), of each kind at least once.
    const tiers: Tier[] = ['sent', 'information', 'warning', 'error'];
    while (tiers.length < r.int(5, 7)) tiers.push(r.pick(['sent', 'information', 'warning', 'error'] as const));
    const old = await Promise.all(
      tiers.map(async (tier) => {
        const startedAt = now - r.int(1, 10) * DAY - r.int(0, DAY - 1);
        const id = await setup.evaluate((ms) => W().Inspect.idAt(ms), startedAt);
        const status = tier === 'error' && r.next() < 0.5 ? ('crashed' as const) : ('ended' as const);
        return { tier, ...oldSession(id, { startedAt, n: r.int(6, 15), chars: r.int(6_000, 20_000), tier, status, sent: tier === 'sent' }) };
      }),
    );
    await setup.evaluate(([p, s]) => W().Inspect.seed(p as string, s as unknown[]), [PRODUCT, old.map(({ tier: _t, ...s }) => s)] as const);
    await setup.close();
    const order = [...old].sort((a, b) => TIER_ORDER[a.tier] - TIER_ORDER[b.tier] || a.startedAt - b.startedAt).map((s) => s.id);
    const seededBytes = old.reduce((n, s) => n + s.bytes, 0);
    const maxLocalBytes = r.int(Math.floor(seededBytes * 0.35), Math.floor(seededBytes * 0.7));

    // The recording tab: no server (nothing leaves while it logs), the small limit.
    const page = await openAgentPage(context, rig.server.url);
    const pageErrors: string[] = [];
    page.on('pageerror', (e) => pageErrors.push(e.message));
    const me = await page.evaluate(
      async ([product, maxLocalBytes]) => {
        W().Ferry.init({ product: product as string, application: 'editor', version: '1', storage: { maxLocalBytes: maxLocalBytes as number } });
        await W().Ferry.ready();
        return W().Ferry.getSessionId()!;
      },
      [PRODUCT, maxLocalBytes] as const,
    );
    const remaining = async () => new Set((await page.evaluate((p) => W().Inspect.read(p), PRODUCT)).sessions.map((s) => s.id));
    const removedOf = (kept: Set<string>) => order.filter((id) => !kept.has(id));
    // Start-up (awaited by ready()): exactly the shortest prefix of the order that brings the store under the limit.
    let k0 = 0;
    for (let left = seededBytes; left > maxLocalBytes; k0++) left -= old.find((s) => s.id === order[k0])!.bytes;
    assert.deepEqual(removedOf(await remaining()), order.slice(0, k0), `start-up pruning: the first ${k0} in the documented order (seed ${SEED})`);

    // Then it logs; pruning runs as the bytes pass the limit. One error, in a random burst.
    const bursts = r.int(2, 9);
    const errorIn = r.int(0, bursts - 1);
    const logged = await page.evaluate(
      async ([bursts, errorIn]) => {
        let n = 0;
        let errorSeq = 0;
        for (let b = 0; b < (bursts as number); b++) {
          for (let i = 0; i < 20; i++, n++) {
            if (b === errorIn && i === 10) {
              W().Ferry.log.error('Fill', `burst ${b} failed`, { b, i });
              errorSeq = n + 1;
            } else W().Ferry.log.information('Fill', `${b}:${i}:${'z'.repeat(480)}`, { b, i });
          }
          await W().Ferry.flush();
        }
        return { n, errorSeq };
      },
      [bursts, errorIn] as const,
    );
    // Pruning runs in the background: wait until the store is back under the limit.
    const db = await until(async () => {
      const d = await page.evaluate((p) => W().Inspect.read(p), PRODUCT);
      return d.sessions.reduce((n, s) => n + s.bytes, 0) <= maxLocalBytes ? d : undefined;
    }, `the store back under ${maxLocalBytes} bytes (seed ${SEED})`);
    const keptIds = new Set(db.sessions.map((s) => s.id));
    const removed = removedOf(keptIds);
    assert.deepEqual(removed, order.slice(0, removed.length), `removed in the documented order: ${removed.length} of ${order.length} (seed ${SEED})`);
    assert.ok(removed.length >= k0);
    const dropped = await page.evaluate(() => W().Ferry.getSessionSummary()!.dropped);
    const removedSessions = old.filter((s) => removed.includes(s.id));
    assert.deepEqual(
      { sessions: dropped.prunedSessions, messages: dropped.prunedMessages },
      { sessions: removed.length, messages: removedSessions.reduce((n, s) => n + s.messageCount, 0) },
      'every removed session and its messages counted on the running session',
    );
    // The running session's own messages go only once no other session is left to remove.
    if (dropped.pruned > 0) assert.equal(removed.length, order.length, 'own messages trimmed only after every other session went');
    assert.deepEqual(pageErrors, [], 'no error reached the page');
    await page.close();

    // A tab with room sends what is left: the unsent old sessions kept, and the recorded one.
    const sender = await openAgentPage(context, rig.server.url);
    await sender.evaluate(
      async ([url, key, product]) => {
        W().Ferry.init({
          product,
          application: 'editor',
          version: '1',
          storage: { maxLocalBytes: 1e12 },
          server: { url, ingestKey: key, autoSendSessions: true },
        });
        await W().Ferry.ready();
        W().Ferry.sendNow();
      },
      [rig.proxy.url, KEYS.all, PRODUCT] as const,
    );
    const keptUnsent = old.filter((s) => s.tier !== 'sent' && keptIds.has(s.id));
    const stored = await until(
      async () => {
        const s = await rig.t.collector.store.getSession(me);
        if (!s?.detail || s.summary.status !== 'ended') return undefined;
        for (const o of keptUnsent) if (!(await rig.t.collector.store.getSession(o.id))?.detail) return undefined;
        return s;
      },
      `the recorded and the kept unsent sessions at the collector (seed ${SEED})`,
      60_000,
      100,
    );
    assert.deepEqual(stored.summary.dropped, dropped, 'the loss accounting reached the collector');
    for (const s of old.filter((s) => s.tier === 'sent' || removed.includes(s.id)))
      assert.equal(
        await rig.t.collector.store.getSession(s.id),
        undefined,
        `${s.tier} session ${removed.includes(s.id) ? 'pruned' : 'already sent'}: not uploaded`,
      );
    const delivered = await readDelivered(rig.t.collector.store, [me, ...keptUnsent.map((s) => s.id)], rig.t.logs);
    const mine = delivered.get(me);
    assert.ok(mine);
    assert.equal(mine.seqs.length + dropped.pruned, logged.n, 'every logged message delivered or counted');
    // Its own trimming, chunk by chunk (docs/storage.md): oldest error-free chunks first, the
    // chunk holding the error only once no error-free one is left.
    const keptSeqs = db.messages.filter((m) => m.sessionId === me).map((m) => m.seq);
    assert.deepEqual(mine.seqs, keptSeqs, 'the collector holds what the store kept');
    const errorChunk = db.chunks.find((c) => c.sessionId === me && c.seq <= logged.errorSeq && logged.errorSeq < c.seq + c.count);
    const kept = new Set(keptSeqs);
    const trimmed = range(logged.n).filter((q) => !kept.has(q));
    if (!errorChunk) assert.deepEqual(keptSeqs, [], 'the error chunk trimmed only after every error-free one');
    else {
      const errorFree = keptSeqs.filter((q) => q < errorChunk.seq || q >= errorChunk.seq + errorChunk.count);
      assert.ok(
        trimmed.every((q) => q < Math.min(...errorFree)),
        `the oldest error-free chunks trimmed first (trimmed ${trimmed.length}, seed ${SEED})`,
      );
    }
    // Tally: the kept unsent sessions and the recorded one are expected at the collector; the
    // removed unsent sessions' messages are expected too, and counted, so not lost.
    const o = compare(new Map([...keptUnsent.map((s) => [s.id, s.messageCount] as const)]), delivered);
    const unique = new Set(mine.seqs).size;
    const removedUnsent = removedSessions.filter((s) => s.tier !== 'sent').reduce((n, s) => n + s.messageCount, 0);
    o.sessions.expected++;
    o.sessions.delivered++;
    if (mine.stores > 1) o.sessions.duplicated++;
    o.messages.expected += logged.n + removedUnsent;
    o.messages.delivered += unique;
    o.messages.duplicated += mine.seqs.length - unique;
    o.messages.lost += logged.n - unique - dropped.pruned;
    record('maxLocalBytes pressure, pruning order (lost = not counted)', 1, o);
    await sender.close();
    await context.close();
  }
});
