import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { BrowserContext, Page } from 'playwright-core';
import { openAgentPage, readDb } from '../support/agentPage.js';
import { until } from '../support/browser.js';
import { useBrowserServerAndCollector } from '../support/e2e.js';
import { KEYS } from '../unit/server/harness.js';
import { openPackagerPage } from './packager-page.js';

const e2e = useBrowserServerAndCollector(() => ({ products: { demo: { policy: 'all', keys: [{ key: KEYS.all, origins: ['*'] }] } } }));

/** Completed detail uploads per session, from the collector's own log. */
const deliveries = (): Map<string, number> => {
  const m = new Map<string, number>();
  for (const r of e2e.collector.logs) if (r.msg === 'detail stored') m.set(r.session as string, (m.get(r.session as string) ?? 0) + 1);
  return m;
};

interface SendOpts {
  application?: string;
  autoSendSessions?: boolean;
  sendAllApplications?: boolean;
  purgeSentSessions?: boolean;
}

const startAgent = (page: Page, o: SendOpts = {}) =>
  page.evaluate(
    async ([url, key, o]) => {
      W().Ferry.on('state', (s) => ((window as unknown as { leader: boolean }).leader = s.leader));
      W().Ferry.init({
        product: 'demo',
        application: o.application ?? 'editor',
        version: '1',
        server: {
          url,
          ingestKey: key,
          autoSendSessions: o.autoSendSessions ?? true,
          sendAllApplications: o.sendAllApplications ?? false,
          purgeSentSessions: o.purgeSentSessions ?? false,
        },
      });
      await W().Ferry.ready();
      return W().Ferry.getSessionId()!;
    },
    [e2e.collector.collector.url, KEYS.all, o] as const,
  );

/** A finished session: a page that logs and closes (ended at pagehide). */
const endedSession = async (context: BrowserContext, o: SendOpts & { messages?: number } = {}): Promise<string> => {
  const page = await openAgentPage(context, e2e.server.url);
  const id = await startAgent(page, { ...o, autoSendSessions: false });
  await page.evaluate(async (n) => {
    for (let i = 0; i < n; i++) W().Ferry.log.information('Work', `step ${i}`);
    W().Ferry.log.error('Work', 'something failed');
    await W().Ferry.flush();
  }, o.messages ?? 50);
  await page.close();
  return id;
};

test('scenario one: auto-send delivers each ended session exactly once, then purges it locally', async () => {
  const context = await e2e.browser.newContext();
  const a = await endedSession(context);
  const b = await endedSession(context, { messages: 3000 });
  const page = await openAgentPage(context, e2e.server.url);
  const me = await startAgent(page, { purgeSentSessions: true });
  // The first check runs about 5 s after start (the Loupe publish loop's rhythm).
  await until(() => deliveries().has(a) && deliveries().has(b), 'both sessions at the collector', 20_000);
  const local = await until(async () => {
    const d = await readDb(page, 'demo');
    return d.sessions.every((s) => s.id === me) ? d : undefined;
  }, 'sent sessions purged locally');
  assert.deepEqual(
    local.sessions.map((s) => s.id),
    [me],
    'only the running session is left',
  );
  // A second pass, asked for explicitly, finds nothing more to send.
  const idleAfterSendNow = page.evaluate(
    () =>
      new Promise<number>((resolve) => {
        const off = W().Ferry.on('state', (s) => {
          if (s.phase === 'idle') {
            off();
            resolve(s.queued);
          }
        });
        W().Ferry.sendNow();
      }),
  );
  assert.equal(await idleAfterSendNow, 0, 'the explicit pass ends idle with an empty queue');
  const res = await e2e.collector.req(`/api/v1/admin/sessions/${b}/messages?limit=5000`, { admin: true });
  const body = (await res.json()) as { total: number };
  assert.equal(body.total, 3001, 'every message arrived');
  assert.equal(deliveries().get(a), 1);
  assert.equal(deliveries().get(b), 1);
  await context.close();
});

test('scenario two: with sendAllApplications one tab sends for both apps; closing it hands over', async () => {
  const context = await e2e.browser.newContext();
  const first = await endedSession(context, { application: 'editor' });
  const second = await endedSession(context, { application: 'viewer' });
  const tabs = await Promise.all([0, 1, 2].map(() => openAgentPage(context, e2e.server.url)));
  await startAgent(tabs[0], { application: 'editor', sendAllApplications: true });
  await startAgent(tabs[1], { application: 'viewer', sendAllApplications: true });
  await startAgent(tabs[2], { application: 'viewer', sendAllApplications: true });
  // Each sender loads lazily after ready(), so the election settles shortly after start.
  const election = () =>
    tabs[0].evaluate(async () => {
      const q = await navigator.locks.query();
      const named = (l: { name?: string }[] | undefined) => (l ?? []).filter((x) => x.name === 'ferry:sender:demo').length;
      return { held: named(q.held), pending: named(q.pending) };
    });
  const settled = await until(async () => {
    const e = await election();
    return e.held + e.pending === 3 ? e : undefined;
  }, 'all three tabs to ask for the sender lock');
  assert.deepEqual(settled, { held: 1, pending: 2 }, 'exactly one sender lock holder; the other tabs wait');
  await until(() => deliveries().has(first) && deliveries().has(second), 'both applications’ sessions sent', 20_000);
  assert.equal(deliveries().get(first), 1);
  assert.equal(deliveries().get(second), 1);

  // A session ends after the leader's pass; then the leader closes and another tab takes over:
  // its first check, 5 s on, finds the session.
  const third = await endedSession(context, { application: 'editor' });
  const leader = await until(async () => {
    for (const t of tabs) if (await t.evaluate(() => (window as unknown as { leader?: boolean }).leader === true)) return t;
    return undefined;
  }, 'the leading tab');
  await leader.close();
  await until(() => deliveries().has(third), 'the new leader to send the session left after the hand-over', 20_000);
  assert.equal(deliveries().get(third), 1);
  assert.equal(deliveries().get(first), 1, 'nothing sent twice across the hand-over');
  await context.close();
});

test('an error logged as the page starts, before the sender has loaded, still sends the running session', async () => {
  const context = await e2e.browser.newContext();
  const page = await openAgentPage(context, e2e.server.url);
  const id = await page.evaluate(
    ([url, key]) => {
      W().Ferry.init({ product: 'demo', application: 'editor', version: '1', server: { url, ingestKey: key, autoSendSessions: true } });
      W().Ferry.log.error('Boot', 'failed at start-up');
      return W().Ferry.getSessionId()!;
    },
    [e2e.collector.collector.url, KEYS.all] as const,
  );
  await until(() => deliveries().has(id), 'the running session at the collector', 20_000);
  const got = await e2e.collector.collector.store.getSession(id);
  assert.equal(got?.summary.status, 'running');
  assert.equal(got?.detail?.counts.error, 1);
  await context.close();
});

test('the script-tag build sends too (its sender compresses in the worker, loaded through the ESM build next to it)', async () => {
  const context = await e2e.browser.newContext();
  const ended = await endedSession(context, { messages: 20 });
  const page = await openPackagerPage(context, e2e.server.url, '/tests/e2e/pages/packager-iife.html');
  await page.evaluate(
    async ([url, key]) => {
      const Ferry = (window as unknown as { Ferry: ReturnType<typeof PW>['Ferry'] }).Ferry;
      Ferry.init({ product: 'demo', application: 'editor', version: '1', server: { url, ingestKey: key, autoSendSessions: true } });
      await Ferry.ready();
      Ferry.sendNow();
    },
    [e2e.collector.collector.url, KEYS.all] as const,
  );
  await until(() => deliveries().get(ended) === 1, 'the ended session delivered by the script-tag agent');
  assert.equal((await e2e.collector.collector.store.getSession(ended))?.detail?.messageCount, 21);
  await context.close();
});
