// Faults of the browser's storage, in real Chromium: a real QuotaExceededError (CDP
// Storage.overrideQuotaForOrigin) while a tab logs, and the product database emptied behind the
// agent's back. The app never sees an exception; every message is either delivered or counted
// as lost in the session's loss accounting, which reaches the collector; a reset is reported.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { AGENT_PAGE, agentLoaded, openAgentPage } from '../support/agentPage.js';
import { launchBrowser, until } from '../support/browser.js';
import { type StaticServer, startStaticServer } from '../support/static-server.js';
import { KEYS, startTestCollector, type TestCollector } from '../unit/server/harness.js';
import { readDelivered } from './support/collected.js';
import { type FaultProxy, startProxy } from './support/proxy.js';
import { compare, emptyOutcome, record, reportAtEnd, rng, SEED } from './support/tally.js';

reportAtEnd(import.meta.filename);

const PRODUCT = 'faults-storage';
let browser: Browser;
let server: StaticServer;
let t: TestCollector;
let proxy: FaultProxy;
before(async () => {
  [browser, server, t] = await Promise.all([
    launchBrowser(),
    startStaticServer(),
    startTestCollector({ listen: true, over: { products: { [PRODUCT]: { policy: 'all', keys: [{ key: KEYS.all, origins: ['*'] }] } } } }),
  ]);
  proxy = await startProxy({ port: Number(new URL(t.collector.url).port) });
});
after(async () => {
  await browser?.close();
  await server?.close();
  await proxy?.close();
  await t?.close();
});

const init = (page: Page, application: string) =>
  page.evaluate(
    async ([url, key, product, application]) => {
      W().Ferry.init({ product, application, version: '1', server: { url, ingestKey: key, autoSendSessions: true } });
      await W().Ferry.ready();
      return W().Ferry.getSessionId()!;
    },
    [proxy.url, KEYS.all, PRODUCT, application] as const,
  );

/** A second tab that sends what the first left (its first check, or sendNow). */
const sendFrom = async (context: BrowserContext, application: string): Promise<Page> => {
  const page = await openAgentPage(context, server.url);
  await init(page, application);
  await page.evaluate(() => W().Ferry.sendNow());
  return page;
};

test('a real QuotaExceededError while a tab logs: no exception reaches the app, every message is delivered or counted lost, and the count reaches the collector', async () => {
  const r = rng(SEED ^ 0x4001);
  for (let round = 0; round < 2; round++) {
    const context = await browser.newContext();
    // Chromium latches an origin's quota when it first opens IndexedDB: set before the page loads.
    const page = await context.newPage();
    const cdp = await context.newCDPSession(page);
    const quota = r.int(2_400_000, 3_200_000);
    await cdp.send('Storage.overrideQuotaForOrigin', { origin: server.url, quotaSize: quota });
    await page.goto(server.url + AGENT_PAGE);
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
        const s = await t.collector.store.getSession(id);
        return s?.detail && s.summary.status === 'ended' ? s : undefined;
      },
      `the session at the collector (seed ${SEED})`,
      60_000,
      100,
    );
    const delivered = (await readDelivered(t.collector.store, [id], t.logs)).get(id);
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
    const context = await browser.newContext();
    // Sessions that ended with no sender (no server), then the whole database deleted.
    const before = r.int(1, 3);
    for (let i = 0; i < before; i++) {
      const p = await openAgentPage(context, server.url);
      await p.evaluate(async (product) => {
        W().Ferry.init({ product, application: 'editor', version: '1' });
        await W().Ferry.ready();
        W().Ferry.log.information('Work', 'before the reset', { i: 1 });
        await W().Ferry.flush();
      }, PRODUCT);
      await p.close();
    }
    const wiper = await openAgentPage(context, server.url);
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
    const page = await openAgentPage(context, server.url);
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
        const s = await t.collector.store.getSession(id);
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
    const o = compare(new Map([[id, n]]), await readDelivered(t.collector.store, [id], t.logs));
    assert.deepEqual({ lost: o.messages.lost, duplicated: o.messages.duplicated, sessions: o.sessions.delivered }, { lost: 0, duplicated: 0, sessions: 1 });
    record('IndexedDB emptied behind the agent', 1, o);
    await sender.close();
    await context.close();
  }
});
