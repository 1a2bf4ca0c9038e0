import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { test } from 'node:test';
import type { BrowserContext, Page } from 'playwright-core';
import { LIMITS } from '../../src/shared/protocol.js';
import { openAgentPage, readDb } from '../support/agentPage.js';
import { until } from '../support/browser.js';
import { useBrowserServerAndCollector } from '../support/e2e.js';
import { KEYS } from '../unit/server/harness.js';

const e2e = useBrowserServerAndCollector(() => ({ products: { demo: { policy: 'all', keys: [{ key: KEYS.all, origins: ['*'] }] } } }));

const stored = (id: string) => e2e.collector.logs.filter((r) => r.msg === 'detail stored' && r.session === id);

interface Opts {
  autoSendSessions?: boolean;
  sendSessionsOnExit?: boolean;
}
/** Starts the agent with the ready-made service worker and waits until it controls the page. */
const startWithSw = async (page: Page, o: Opts) => {
  const id = await page.evaluate(
    async ([url, key, o]) => {
      W().Ferry.init({
        product: 'demo',
        application: 'sw-app',
        version: '1',
        server: { url, ingestKey: key, autoSendSessions: o.autoSendSessions ?? false, sendSessionsOnExit: o.sendSessionsOnExit ?? false },
        serviceWorker: { url: '/dist/ferry-sw.js' },
      });
      await W().Ferry.ready();
      return W().Ferry.getSessionId()!;
    },
    [e2e.collector.collector.url, KEYS.all, o] as const,
  );
  await page.waitForFunction(() => navigator.serviceWorker.controller !== null);
  return id;
};

/** An ended session whose detail is several upload chunks (random text does not compress). */
const bigEndedSession = async (context: BrowserContext): Promise<string> => {
  const page = await openAgentPage(context, e2e.server.url);
  const id = await page.evaluate(async (key) => {
    W().Ferry.init({ product: 'demo', application: 'sw-app', version: '1', server: { url: 'http://127.0.0.1:1', ingestKey: key } });
    await W().Ferry.ready();
    for (let i = 0; i < 1500; i++) W().Ferry.log.information('Noise', btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(900)))));
    W().Ferry.log.error('Noise', 'the end');
    await W().Ferry.flush();
    return W().Ferry.getSessionId()!;
  }, KEYS.all);
  await page.close();
  return id;
};

test('offline mid-upload: Background Sync resumes from the server offset and finishes after every tab closed', async () => {
  const context = await e2e.browser.newContext();
  const id = await bigEndedSession(context);
  let patches = 0;
  let cut = false;
  context.on('requestfinished', (r) => {
    if (r.method() !== 'PATCH') return;
    if (++patches === 2 && !cut) {
      cut = true;
      void context.setOffline(true);
    }
  });
  const page = await openAgentPage(context, e2e.server.url);
  await startWithSw(page, { autoSendSessions: true });
  await until(() => cut, 'two chunks uploaded, then the network cut', 20_000);
  // The leader sees the network failure and registers the sync tag; the data sits in the outbox.
  await until(
    async () =>
      (
        await page.evaluate(() => navigator.serviceWorker.ready.then((r) => (r as unknown as { sync: { getTags(): Promise<string[]> } }).sync.getTags()))
      ).includes('ferry-upload'),
    'the ferry-upload sync tag',
    20_000,
  );
  assert.equal(stored(id).length, 0);
  await page.close();
  // No tab is left; Chromium fires the held sync by itself when the network returns.
  await context.setOffline(false);
  await until(() => stored(id).length === 1, 'the service worker to finish the upload', 30_000);
  const size = stored(id)[0].compressed as number;
  // Bytes of every PATCH that reached the collector (its request log), whoever sent it.
  const upload = stored(id)[0].upload as string;
  const sentBytes = () =>
    e2e.collector.logs
      .filter((r) => r.msg === 'request' && r.method === 'PATCH' && String(r.path).endsWith(upload) && typeof r.bytes === 'number')
      .reduce((n, r) => n + (r.bytes as number), 0);
  assert.ok(size > 4 * LIMITS.uploadChunkBytes, `several chunks (${size} bytes)`);
  // The request log line is written as the reply goes out, just after "detail stored".
  const sent = await until(
    () => (sentBytes() >= size ? sentBytes() : 0),
    `every byte logged, the service worker's PATCHes included (${sentBytes()} of ${size})`,
  );
  assert.ok(sent - size <= LIMITS.uploadChunkBytes, `re-sent ${sent - size} bytes, at most one chunk`);
  await context.close();
});

test('send on exit: after the last tab closes, the service worker delivers the session with full detail', async () => {
  const context = await e2e.browser.newContext();
  const page = await openAgentPage(context, e2e.server.url);
  const id = await startWithSw(page, { sendSessionsOnExit: true });
  await page.evaluate(() => {
    for (let i = 0; i < 20; i++) W().Ferry.log.verbose('Steps', `step ${i}`);
    W().Ferry.log.error('Checkout', 'payment failed');
  });
  await page.close();
  await until(() => stored(id).length === 1, 'the session at the collector', 20_000);
  assert.equal(stored(id)[0].messages, 21, 'full detail, including the messages logged just before closing');
  // Opening the app again does not send it a second time.
  const again = await openAgentPage(context, e2e.server.url);
  await startWithSw(again, { autoSendSessions: true });
  await again.evaluate(() => W().Ferry.sendNow());
  const db = await until(async () => {
    const d = await readDb(again, 'demo');
    return d.sessions.find((s) => s.id === id)?.detailState === 'sent' ? d : undefined;
  }, 'the session recorded as sent');
  assert.ok(db);
  assert.equal(stored(id).length, 1, 'never sent twice');
  await context.close();
});

test('a last-chance sync that fails (503) keeps the data; the next page load sends it', async () => {
  const context = await e2e.browser.newContext();
  const id = await bigEndedSession(context);
  let refuse = true;
  let swRefusals = 0;
  await context.route(`${e2e.collector.collector.url}/**`, (route) => {
    if (!refuse) return route.continue();
    if (route.request().serviceWorker()) swRefusals++;
    return route.fulfill({ status: 503, body: 'down for maintenance' });
  });
  const page = await openAgentPage(context, e2e.server.url);
  await startWithSw(page, { autoSendSessions: false });
  // Make the session wanted and queued, as a failed upload leaves it, then fire the sync by CDP.
  await page.evaluate(() => W().Ferry.configure({ server: { autoSendSessions: true } }));
  const cdp = await context.newCDPSession(page);
  const registration = new Promise<string>((resolve) =>
    cdp.on('ServiceWorker.workerRegistrationUpdated', (e) => {
      const r = e.registrations.find((x) => !x.isDeleted);
      if (r) resolve(r.registrationId);
    }),
  );
  await cdp.send('ServiceWorker.enable');
  const registrationId = await registration;
  await cdp.send('ServiceWorker.dispatchSyncEvent', { origin: e2e.server.url, registrationId, tag: 'ferry-upload', lastChance: true });
  // The handler tries 4 times within its event (2 s, 4 s, 8 s apart), then gives up quietly.
  await until(() => swRefusals >= 4, 'the service worker to retry within its sync event', 30_000);
  assert.equal(stored(id).length, 0);
  const db = await readDb(page, 'demo');
  assert.ok(
    db.sessions.some((s) => s.id === id),
    'the session is still stored locally',
  );
  await page.close();
  refuse = false;
  const next = await openAgentPage(context, e2e.server.url);
  await startWithSw(next, { autoSendSessions: true });
  await next.evaluate(() => W().Ferry.sendNow());
  await until(() => stored(id).length === 1, 'the next page load to send it', 20_000);
  await context.close();
});

test('the ready-made service worker precaches the agent files: a page that goes offline before it ever packaged still builds a package', async () => {
  const context = await e2e.browser.newContext();
  const page = await openAgentPage(context, e2e.server.url);
  await startWithSw(page, {});
  const files = JSON.parse(readFileSync(resolve(import.meta.dirname, '../../dist/.vite/manifest.lib.json'), 'utf8')) as Record<string, { file: string }>;
  // The framework entries are for the app's bundler; the agent never loads them.
  const frameworkEntries = new Set(['ferry-react.js', 'ferry-vue.js']);
  const agentFiles = Object.values(files).filter((c) => !frameworkEntries.has(c.file));
  assert.equal(agentFiles.length, Object.keys(files).length - frameworkEntries.size, 'the lib run built both framework entries');
  const expected = new Set([...agentFiles.map((c) => `${e2e.server.url}/dist/${c.file}`), `${e2e.server.url}/dist/ferry-worker.js`]);
  const cached = await until(
    () =>
      page.evaluate(async () => {
        const names = (await caches.keys()).filter((n) => n.startsWith('ferry:agent:'));
        if (names.length !== 1) return undefined;
        const urls = (await (await caches.open(names[0]!)).keys()).map((r) => r.url);
        return urls.length > 0 ? urls : undefined;
      }),
    'the agent files in Cache Storage',
  );
  for (const url of expected) assert.ok(cached.includes(url), `${url} is cached`);
  assert.ok(!cached.some((u) => !u.startsWith(`${e2e.server.url}/dist/`)), 'nothing but the agent files is cached');
  for (const f of frameworkEntries) assert.ok(!cached.includes(`${e2e.server.url}/dist/${f}`), `${f} is not cached`);

  // Offline, the packager (never loaded on this page) and its worker come from that cache.
  await context.setOffline(true);
  const result = await page.evaluate(async () => {
    const r = await W().Ferry.packager.send({ criteria: ['active'], destination: 'blob' });
    return { status: r.status, size: r.blob?.size ?? 0 };
  });
  assert.equal(result.status, 'sent');
  assert.ok(result.size > 200, 'a package was built offline');
  await context.setOffline(false);
  await context.close();
});

test('a 401 in a Background Sync pauses the service worker too: one request, no retry within the event, nothing parked', async () => {
  const context = await e2e.browser.newContext();
  const id = await bigEndedSession(context);
  let swRequests = 0;
  let refuse = true;
  await context.route(`${e2e.collector.collector.url}/**`, (route) => {
    if (!route.request().serviceWorker() || !refuse) return route.continue();
    swRequests++;
    return route.fulfill({
      status: 401,
      contentType: 'application/json',
      headers: { 'access-control-allow-origin': '*' },
      body: JSON.stringify({ error: 'unauthorized', detail: 'unknown ingest key' }),
    });
  });
  const page = await openAgentPage(context, e2e.server.url);
  await startWithSw(page, { autoSendSessions: true });
  const tags = () =>
    page.evaluate(() => navigator.serviceWorker.ready.then((r) => (r as unknown as { sync: { getTags(): Promise<string[]> } }).sync.getTags()));
  // The page's own sender is not the one asked: the service worker runs the pass when the tag fires.
  await page.evaluate(() =>
    navigator.serviceWorker.ready.then((r) => (r as unknown as { sync: { register(tag: string): Promise<void> } }).sync.register('ferry-upload')),
  );
  // A handler that resolves clears the tag; one that kept failing would hold it for Chromium's retry.
  await until(async () => swRequests > 0 && (await tags()).length === 0, 'the sync event to end');
  assert.equal(swRequests, 1, 'asked once: a refused key is not retried within the event');
  const row = (await readDb(page, 'demo')).sessions.find((s) => s.id === id);
  assert.equal(row?.parked, undefined, 'the session is not parked');
  refuse = false;
  await page.evaluate(() => W().Ferry.sendNow());
  await until(() => stored(id).length === 1, 'the session sent once the collector takes the key', 20_000);
  await context.close();
});
