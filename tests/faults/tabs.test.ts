// Faults of the browser side, in real Chromium: tabs crashed (CDP Page.crash) in the middle of a
// write burst, and five tabs of two applications opened, reloaded, crashed and closed at random
// while they log and send, with offline periods. The agent sends through the fault proxy to a real
// collector. What counts as expected is what IndexedDB held (every batch whose flush() resolved is
// checked to be there); the collector must end with exactly that, each session uploaded once.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { BrowserContext, Page } from 'playwright-core';
import { openAgentPage, readDb, type StoredMessage } from '../support/agentPage.js';
import { until } from '../support/browser.js';
import { KEYS } from '../unit/server/harness.js';
import { readDelivered } from './support/collected.js';
import { useFaultRig } from './support/rig.js';
import { compare, type Outcome, type Rng, record, reportAtEnd, rng, SEED } from './support/tally.js';

reportAtEnd(import.meta.filename);

const PRODUCT = 'faults';
const rig = useFaultRig(PRODUCT);

/** Per session: the messages whose flush() resolved in its tab (reported through a binding). */
type Committed = Map<string, number>;

const watch = async (context: BrowserContext): Promise<Committed> => {
  const committed: Committed = new Map();
  await context.exposeBinding('ferryCommitted', (_source, id: string, n: number) => {
    committed.set(id, Math.max(committed.get(id) ?? 0, n));
  });
  return committed;
};

/** Starts the agent in `page` (sending for every application of the product) and defines `burst(k)`. */
const startTab = (page: Page, application: string): Promise<string> =>
  page.evaluate(
    async ([url, key, product, application]) => {
      const w = window as unknown as { leader?: boolean; burst(k: number): Promise<void>; ferryCommitted(id: string, n: number): Promise<void> };
      W().Ferry.on('state', (s) => {
        w.leader = s.leader;
      });
      W().Ferry.init({ product, application, version: '1', server: { url, ingestKey: key, autoSendSessions: true, sendAllApplications: true } });
      await W().Ferry.ready();
      const id = W().Ferry.getSessionId()!;
      let n = 0;
      const text = 'x'.repeat(160);
      w.burst = async (k) => {
        for (let i = 0; i < k; i++) W().Ferry.log.information('Work', `${application} ${n + i} ${text}`, { i: n + i, application, ok: i % 2 === 0 });
        n += k;
        const upTo = n;
        await W().Ferry.flush();
        await w.ferryCommitted(id, upTo);
      };
      return id;
    },
    [rig.proxy.url, KEYS.all, PRODUCT, application] as const,
  );

const crash = async (context: BrowserContext, page: Page): Promise<void> => {
  const crashed = new Promise<void>((r) => page.once('crash', () => r()));
  const cdp = await context.newCDPSession(page);
  // Page.crash gets no reply: the page's `crash` event says it happened.
  void cdp.send('Page.crash').catch(() => {});
  await crashed;
  // Gone for good (the renderer is dead); a crashed page left in the context fails setOffline.
  await page.close().catch(() => {});
};

/** Keeps `page` logging bursts until it dies or `stop()` is called. */
const keepLogging = (page: Page, r: Rng): { stop(): void; done: Promise<void> } => {
  let stopped = false;
  const done = (async () => {
    while (!stopped) {
      try {
        await page.evaluate((k) => (window as unknown as { burst(k: number): Promise<void> }).burst(k), r.int(5, 60));
      } catch {
        return; // the page crashed, closed or navigated
      }
    }
  })();
  return {
    stop: () => {
      stopped = true;
    },
    done,
  };
};

/**
 * What the database of `page` holds for these sessions (seqs 1..n each), checked against what
 * each tab was told had been committed; a map of session → message count.
 */
const stored = async (page: Page, ids: Iterable<string>, committed: Committed): Promise<Map<string, number>> => {
  const db = await readDb(page, PRODUCT);
  const out = new Map<string, number>();
  for (const id of ids) {
    const seqs = db.messages
      .filter((m: StoredMessage) => m.sessionId === id)
      .map((m) => m.seq)
      .sort((a, b) => a - b);
    assert.ok(
      seqs.every((s, i) => s === i + 1),
      `session ${id}: stored seqs are 1..${seqs.length} without a gap`,
    );
    assert.ok(seqs.length >= (committed.get(id) ?? 0), `session ${id}: all ${committed.get(id)} committed messages stored (${seqs.length})`);
    out.set(id, seqs.length);
  }
  return out;
};

const delivered = async (expected: ReadonlyMap<string, number>): Promise<Outcome> => {
  const stores = await until(
    async () => {
      const d = await readDelivered(rig.t.collector.store, expected.keys(), rig.t.logs);
      // A tab that died before its first batch leaves a session without messages: its summary is what arrives.
      for (const [id, n] of expected) if (n === 0 && !d.has(id) && (await rig.t.collector.store.getSession(id))) d.set(id, { seqs: [], stores: 0 });
      const complete = [...expected].every(([id, n]) => d.has(id) && (d.get(id)?.seqs.length ?? 0) >= n);
      return complete ? d : undefined;
    },
    `every session at the collector, complete (seed ${SEED})`,
    60_000,
    100,
  );
  return compare(expected, stores);
};

const assertExact = (name: string, o: Outcome): void =>
  assert.deepEqual(
    { delivered: o.sessions.delivered, duplicatedSessions: o.sessions.duplicated, lost: o.messages.lost, duplicated: o.messages.duplicated },
    { delivered: o.sessions.expected, duplicatedSessions: 0, lost: 0, duplicated: 0 },
    `${name}: every session once, every message once (replay with FERRY_FAULT_SEED=${SEED})`,
  );

const isLeader = (page: Page) => page.evaluate(() => (window as unknown as { leader?: boolean }).leader === true).catch(() => false);

test('a tab crashed (Page.crash) in the middle of a write burst: its session arrives crashed with every committed batch, sent by the tab still open', async () => {
  const r = rng(SEED ^ 0x3001);
  for (let i = 0; i < 4; i++) {
    const context = await rig.browser.newContext();
    const committed = await watch(context);
    const survivor = await openAgentPage(context, rig.server.url);
    await startTab(survivor, 'editor');
    await until(() => isLeader(survivor), 'the first tab to become the sender');
    const victim = await openAgentPage(context, rig.server.url);
    const id = await startTab(victim, 'viewer');
    const logging = keepLogging(victim, r);
    // Crash once some batches are committed and more are on their way.
    await until(() => (committed.get(id) ?? 0) >= r.int(20, 200), 'a few committed batches', 20_000, 5);
    await crash(context, victim);
    await logging.done;
    const pages = context.pages().length;
    const expected = await stored(survivor, [id], committed);
    // The sender would find it at its next regular pass; asking now keeps the round short.
    await survivor.evaluate(() => W().Ferry.sendNow());
    const o = await delivered(expected);
    const s = await rig.t.collector.store.getSession(id);
    assert.equal(s?.summary.status, 'crashed');
    assert.equal(context.pages().length, pages, 'no page was opened to send it');
    assertExact('tab crash', o);
    record('tab crashed mid-burst', 1, o);
    await context.close();
  }
});

test('five tabs of two applications opened, reloaded, crashed and closed at random while sending, with offline periods: each session uploaded once', async () => {
  const r = rng(SEED ^ 0x3002);
  for (let round = 0; round < 2; round++) {
    const context = await rig.browser.newContext();
    const committed = await watch(context);
    const sessions = new Set<string>();
    const tabs: { page: Page; logging: ReturnType<typeof keepLogging> }[] = [];
    const open = async (): Promise<void> => {
      const page = await openAgentPage(context, rig.server.url);
      sessions.add(await startTab(page, r.pick(['editor', 'viewer'])));
      tabs.push({ page, logging: keepLogging(page, r) });
    };
    const take = (): (typeof tabs)[number] => tabs.splice(r.int(0, tabs.length - 1), 1)[0]!;
    let faults = 0;
    for (let i = 0; i < 5; i++) await open();
    let offline = false;
    for (let step = 0; step < 14; step++) {
      // Offline, pages cannot load either: the tabs already open keep logging, crash or close.
      const action =
        tabs.length < 3
          ? offline
            ? 'offline'
            : 'open'
          : r.pick(offline ? (['crash', 'close', 'offline', 'wait'] as const) : (['open', 'reload', 'crash', 'close', 'offline', 'wait'] as const));
      if (action === 'open' && tabs.length < 5) await open();
      else if (action === 'reload') {
        const tab = take();
        tab.logging.stop();
        await tab.page.reload();
        await tab.page.waitForFunction(() => (window as unknown as { ferryLoaded?: boolean }).ferryLoaded === true);
        sessions.add(await startTab(tab.page, r.pick(['editor', 'viewer'])));
        tabs.push({ page: tab.page, logging: keepLogging(tab.page, r) });
        faults++;
      } else if (action === 'crash') {
        await crash(context, take().page);
        faults++;
      } else if (action === 'close') {
        await take().page.close();
        faults++;
      } else if (action === 'offline') {
        offline = !offline;
        await context.setOffline(offline);
        faults++;
      }
      // Let the tabs log (and the sender send) for a moment between two actions.
      const before = [...committed.values()].reduce((a, b) => a + b, 0);
      await until(() => [...committed.values()].reduce((a, b) => a + b, 0) > before + 50 || tabs.length === 0, 'the tabs to log on', 20_000, 10);
    }
    await context.setOffline(false);
    // Every tab closed or crashed, then one new tab (the sender now) sends what they left.
    for (const tab of tabs.splice(0)) {
      if (r.next() < 0.5) await crash(context, tab.page);
      else await tab.page.close();
      faults++;
    }
    const finisher = await openAgentPage(context, rig.server.url);
    await startTab(finisher, 'editor');
    await until(() => isLeader(finisher), 'the new tab to become the sender');
    const expected = await stored(finisher, sessions, committed);
    await finisher.evaluate(() => W().Ferry.sendNow());
    const o = await delivered(expected);
    assertExact('five tabs', o);
    record('tabs reloaded/crashed/closed, offline', faults, o);
    await context.close();
  }
});
