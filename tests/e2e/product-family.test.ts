// A product family in one browser: two applications × three tabs, one elected sender for all of
// them (sendAllApplications). When the sender's own tab crashes, a surviving tab takes the lock,
// finds the dead tab's session (its live lock went with it) and sends it as crashed — at once,
// without any new page load.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Page } from 'playwright-core';
import { openAgentPage, readDb } from '../support/agentPage.js';
import { until } from '../support/browser.js';
import { useBrowserServerAndCollector } from '../support/e2e.js';
import { KEYS } from '../unit/server/harness.js';

const PRODUCT = 'family';
const e2e = useBrowserServerAndCollector(() => ({ products: { [PRODUCT]: { policy: 'all', keys: [{ key: KEYS.all, origins: ['*'] }] } } }));

/** Completed detail uploads per session, from the collector's own log. */
const deliveries = (id: string): number => e2e.collector.logs.filter((r) => r.msg === 'detail stored' && r.session === id).length;

interface Tab {
  page: Page;
  application: string;
  id: string;
  messages: number;
}

/** Starts the agent (every tab of the family sends for all applications) and remembers its `state` events. */
const startTab = async (page: Page, application: string): Promise<string> =>
  page.evaluate(
    async ([url, key, product, application]) => {
      const w = window as unknown as { leader?: boolean; states: unknown[] };
      w.states = [];
      W().Ferry.on('state', (s) => {
        w.leader = s.leader;
        w.states.push(s);
      });
      W().Ferry.init({
        product,
        application,
        version: '2.1',
        server: { url, ingestKey: key, autoSendSessions: true, sendAllApplications: true },
      });
      await W().Ferry.ready();
      return W().Ferry.getSessionId()!;
    },
    [e2e.collector.collector.url, KEYS.all, PRODUCT, application] as const,
  );

/** Logs `n` messages with details (and one warning) and waits until they are stored. */
const logSome = (page: Page, n: number) =>
  page.evaluate(async (n) => {
    const app = W().Ferry.getSessionSummary()!.application;
    for (let i = 0; i < n; i++) W().Ferry.log.information('Work', `${app} step ${i}`, { step: i, app, nested: { ok: i % 2 === 0 } });
    W().Ferry.log.warning('Work', 'slow response', { ms: 1234 });
    await W().Ferry.flush();
  }, n);

const isLeader = (page: Page) => page.evaluate(() => (window as unknown as { leader?: boolean }).leader === true);

test('product family: the elected sender crashes; a surviving tab takes over and sends its session as crashed, whole, without a new tab', async () => {
  const context = await e2e.browser.newContext();
  const tabs: Tab[] = [];
  for (const application of ['editor', 'viewer'])
    for (let i = 0; i < 3; i++) {
      const page = await openAgentPage(context, e2e.server.url);
      const id = await startTab(page, application);
      tabs.push({ page, application, id, messages: 0 });
    }
  await Promise.all(
    tabs.map(async (t, i) => {
      const n = 20 + 7 * i;
      await logSome(t.page, n);
      t.messages = n + 1;
    }),
  );

  // Exactly one tab of the six holds the product-wide sender lock.
  const sender = await until(async () => {
    const flags = await Promise.all(tabs.map((t) => isLeader(t.page)));
    const held = await tabs[0].page.evaluate(async (name) => {
      const q = await navigator.locks.query();
      return { held: (q.held ?? []).filter((l) => l.name === name).length, pending: (q.pending ?? []).filter((l) => l.name === name).length };
    }, `ferry:sender:${PRODUCT}`);
    return flags.filter(Boolean).length === 1 && held.held === 1 && held.pending === 5 ? tabs[flags.indexOf(true)] : undefined;
  }, 'one elected sender among the six tabs (the other five waiting for its lock)');
  const survivors = tabs.filter((t) => t !== sender);

  // The stored session of the sender tab holds every message it flushed.
  const before = await readDb(survivors[0].page, PRODUCT);
  assert.equal(before.sessions.find((s) => s.id === sender.id)?.status, 'running');
  assert.equal(before.messages.filter((m) => m.sessionId === sender.id).length, sender.messages);

  const crashed = new Promise<void>((resolve) => sender.page.once('crash', () => resolve()));
  const cdp = await context.newCDPSession(sender.page);
  const crashedAt = Date.now();
  // Page.crash gets no reply: the page dies under the CDP session, whose call only rejects once the
  // context closes. The page's `crash` event is what says it happened.
  void cdp.send('Page.crash').catch(() => {});
  await crashed;
  const pagesAfterCrash = context.pages().length;

  // The survivors are alive (the crash took only the sender's renderer) and one of them took over.
  await Promise.all(survivors.map((t) => t.page.evaluate(() => 1)));
  const next = await until(
    async () => {
      const flags = await Promise.all(survivors.map((t) => isLeader(t.page)));
      return flags.filter(Boolean).length === 1 ? survivors[flags.indexOf(true)] : undefined;
    },
    'a surviving tab to become the sender',
    10_000,
  );

  // Within one sender cycle (the takeover marks crashed sessions at once; the regular pass would
  // come 60 s later), the crashed session reaches the collector, status and messages complete.
  const stored = await until(
    async () => {
      const s = await e2e.collector.collector.store.getSession(sender.id);
      return s?.detail ? s : undefined;
    },
    'the crashed session stored at the collector with its detail',
    20_000,
  );
  const tookMs = Date.now() - crashedAt;
  // Sent by the pass the takeover started, not by the new sender's first scheduled check (5 s
  // after it took the lock, as its first `state` says) nor by a regular pass 60 s on.
  const takeover = await next.page.evaluate(() => (window as unknown as { states: { leader: boolean; nextCheckAt?: number }[] }).states.find((s) => s.leader));
  assert.ok(takeover?.nextCheckAt, 'the new sender published its takeover state');
  assert.ok(
    stored.receivedAt < takeover.nextCheckAt,
    `sent at takeover, not by the first scheduled check (received ${stored.receivedAt - takeover.nextCheckAt} ms after that check was due)`,
  );
  assert.equal(stored.summary.status, 'crashed');
  assert.equal(stored.summary.application, sender.application);
  assert.equal(stored.detail?.messageCount, sender.messages, 'every message the crashed tab flushed');
  assert.equal(stored.detail?.counts.warning, 1);
  assert.equal(deliveries(sender.id), 1, 'uploaded once');
  assert.equal(context.pages().length, pagesAfterCrash, 'no tab was opened to get it sent');

  // The messages arrived with their details.
  const res = await e2e.collector.req(`/api/v1/admin/sessions/${sender.id}/messages?limit=1000`, { admin: true });
  const body = (await res.json()) as { total: number; messages: { seq: number; details?: { step?: number; app?: string } }[] };
  assert.equal(body.total, sender.messages);
  const first = body.messages.find((m) => m.seq === 1);
  assert.deepEqual(first?.details, { step: 0, app: sender.application, nested: { ok: true } });

  // The new sender recorded it; the live sessions of the survivors stay running and unsent.
  const after = await until(async () => {
    const d = await readDb(next.page, PRODUCT);
    return d.sessions.find((s) => s.id === sender.id)?.detailState === 'sent' ? d : undefined;
  }, 'the crashed session recorded as sent');
  for (const t of survivors) {
    assert.equal(after.sessions.find((s) => s.id === t.id)?.status, 'running', `${t.application} tab still running`);
    assert.equal(await e2e.collector.collector.store.getSession(t.id), undefined, 'a live session is not sent');
  }
  console.log(`# crashed session stored ${tookMs} ms after the crash`);
  await context.close();
});
