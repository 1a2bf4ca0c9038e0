// Consent across tabs (consent.required): the answer is stored once (meta 'consent') and broadcast,
// so a withdrawal in one tab stops the elected sender in another at once — before its next pass,
// and in the middle of one.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { BrowserContext, Page, Route } from 'playwright-core';
import { openAgentPage, readDb } from '../support/agentPage.js';
import { until } from '../support/browser.js';
import { useBrowserServerAndCollector } from '../support/e2e.js';
import { KEYS } from '../unit/server/harness.js';

const PRODUCT = 'consented';
const e2e = useBrowserServerAndCollector(() => ({ products: { [PRODUCT]: { policy: 'all', keys: [{ key: KEYS.all, origins: ['*'] }] } } }));

const stored = (id: string) => e2e.collector.logs.filter((r) => r.msg === 'detail stored' && r.session === id).length;
/** Requests of the agents the collector answered (its access log), from index `from` on. */
const requests = (from: number, path: string) => e2e.collector.logs.slice(from).filter((r) => r.msg === 'request' && String(r.path).startsWith(path));

type Seen = { leader?: boolean; consents: boolean[]; phases: string[] };

/** Starts the agent with consent required and auto-send on; records its `state` and `consent` events. */
const start = (page: Page, autoSendSessions: boolean, serviceWorker = false) =>
  page.evaluate(
    async ([url, key, product, autoSendSessions, serviceWorker]) => {
      const w = window as unknown as Seen;
      w.consents = [];
      w.phases = [];
      W().Ferry.on('state', (s) => {
        w.leader = s.leader;
        w.phases.push(s.phase);
      });
      W().Ferry.on('consent', (c) => w.consents.push(c.granted));
      W().Ferry.init({
        product,
        application: 'editor',
        version: '1',
        consent: { required: true, companyName: 'Acme' },
        server: { url, ingestKey: key, autoSendSessions },
        ...(serviceWorker ? { serviceWorker: { url: '/dist/ferry-sw.js' } } : {}),
      });
      await W().Ferry.ready();
      return W().Ferry.getSessionId()!;
    },
    [e2e.collector.collector.url, KEYS.all, PRODUCT, autoSendSessions, serviceWorker] as const,
  );

/** A session that logs and ends (its tab closes); it sends nothing itself. */
const endedSession = async (context: BrowserContext, reader: Page): Promise<string> => {
  const page = await openAgentPage(context, e2e.server.url);
  const id = await start(page, false);
  await page.evaluate(async () => {
    for (let i = 0; i < 10; i++) W().Ferry.log.information('Work', `step ${i}`, { i });
    W().Ferry.log.warning('Work', 'almost');
    await W().Ferry.flush();
  });
  await page.close();
  await until(async () => (await readDb(reader, PRODUCT)).sessions.find((s) => s.id === id)?.status === 'ended', 'the session ended');
  return id;
};

/** Asks `page` for a pass now; resolves with the phase of the first state that ends one. */
const sendNowEnds = (page: Page) =>
  page.evaluate(
    () =>
      new Promise<string>((resolve) => {
        const off = W().Ferry.on('state', (s) => {
          if (['idle', 'no-consent', 'offline', 'waiting', 'off'].includes(s.phase)) {
            off();
            resolve(s.phase);
          }
        });
        W().Ferry.sendNow();
      }),
  );

const seen = (page: Page): Promise<Seen> =>
  page.evaluate(() => {
    const w = window as unknown as Seen;
    return { leader: w.leader, consents: [...w.consents], phases: [...w.phases] };
  });

/** The stored answer (meta 'consent'), read with the raw IndexedDB API. */
const storedConsent = (page: Page) =>
  page.evaluate(
    (product) =>
      new Promise<{ granted: boolean; at: number } | undefined>((resolve, reject) => {
        const r = indexedDB.open(`ferry:${product}`);
        r.onerror = () => reject(r.error);
        r.onsuccess = () => {
          const get = r.result.transaction('meta').objectStore('meta').get('consent');
          get.onsuccess = () => {
            r.result.close();
            resolve(get.result);
          };
          get.onerror = () => reject(get.error);
        };
      }),
    PRODUCT,
  );

/** Tab B first (so it is the elected sender), then tab A. */
const twoTabs = async (context: BrowserContext) => {
  const b = await openAgentPage(context, e2e.server.url);
  await start(b, true);
  await until(() => b.evaluate(() => (window as unknown as Seen).leader === true), 'tab B to be the elected sender');
  const a = await openAgentPage(context, e2e.server.url);
  await start(a, true);
  return { a, b };
};

test('consent withdrawn in tab A: the sender in tab B hears it at once and sends nothing more, even when asked', async () => {
  const context = await e2e.browser.newContext();
  const { a, b } = await twoTabs(context);
  const first = await endedSession(context, b);

  // No answer yet: nothing goes, even when asked.
  assert.equal(await sendNowEnds(b), 'no-consent');
  assert.equal(await e2e.collector.collector.store.getSession(first), undefined);

  await a.evaluate(() => W().Ferry.setConsent(true));
  await until(async () => (await seen(b)).consents.includes(true), 'tab B told of the consent');
  // Granting asks the sender for a pass at once: the waiting session goes.
  await until(() => stored(first) === 1, 'the session ended before consent sent once it was granted', 15_000);
  // The final PATCH is logged as its reply goes out, just after 'detail stored'; and B's pass ends.
  const upload = e2e.collector.logs.find((r) => r.msg === 'detail stored' && r.session === first)?.upload as string;
  await until(() => requests(0, `/api/v1/uploads/${upload}`).some((r) => r.method === 'PATCH'), 'the final PATCH logged');
  await until(async () => (await seen(b)).phases.at(-1) === 'idle', "B's pass over");

  const mark = e2e.collector.logs.length;
  await a.evaluate(() => W().Ferry.setConsent(false));
  const told = await until(
    async () => {
      const s = await seen(b);
      return s.consents.at(-1) === false ? s : undefined;
    },
    'the consent event in tab B',
    2_000,
  );
  assert.deepEqual(told.consents, [true, false], 'tab B heard both answers, in order');
  assert.equal(await b.evaluate(() => W().Ferry.getConsent()), false, "tab B's agent knows consent is withdrawn");
  assert.equal((await storedConsent(b))?.granted, false, 'the one stored copy says withdrawn');
  assert.deepEqual(await a.evaluate(() => (window as unknown as Seen).consents), [true, false], 'tab A emits its own changes too');

  const later = await endedSession(context, b);
  // B is asked to send: its pass stops on the stored answer before any request.
  assert.equal(await sendNowEnds(b), 'no-consent');
  assert.equal((await seen(b)).leader, true, 'B is still the sender');
  assert.equal(await e2e.collector.collector.store.getSession(later), undefined, 'the session ended after the withdrawal is unknown to the collector');
  assert.deepEqual(requests(mark, '/api/v1/'), [], 'no request at all reached the collector after the withdrawal');
  const db = await readDb(b, PRODUCT);
  assert.equal(db.sessions.find((s) => s.id === later)?.summarySentAt, undefined);
  await context.close();
});

test('consent withdrawn while the sender is mid-pass: the pass stops before the next request', async () => {
  const context = await e2e.browser.newContext();
  const { a, b } = await twoTabs(context);
  const ids = [await endedSession(context, b), await endedSession(context, b), await endedSession(context, b)];

  // The summaries request of the pass that consent starts is held at the network, so the
  // withdrawal lands while the pass is under way.
  let held: Route | undefined;
  let arrive = (): void => {};
  const arrived = new Promise<void>((resolve) => (arrive = resolve));
  await context.route(`${e2e.collector.collector.url}/api/v1/sessions/summaries`, (route) => {
    if (held) return route.continue();
    held = route;
    arrive();
  });
  await a.evaluate(() => W().Ferry.setConsent(true));
  await arrived;
  await a.evaluate(() => W().Ferry.setConsent(false));
  await until(async () => (await seen(b)).consents.at(-1) === false, 'the withdrawal heard in tab B', 2_000);
  const mark = e2e.collector.logs.length;
  const stopped = b.evaluate(
    () =>
      new Promise<string>((resolve) => {
        const off = W().Ferry.on('state', (s) => {
          if (!['summaries', 'compressing', 'uploading'].includes(s.phase)) {
            off();
            resolve(s.phase);
          }
        });
      }),
  );
  await held!.continue();
  assert.equal(await stopped, 'no-consent', 'the pass ended on consent, not idle');
  await context.unrouteAll({ behavior: 'ignoreErrors' });
  // The summaries were asked for while consent held; no detail went after it was withdrawn.
  assert.deepEqual(
    requests(mark, '/api/v1/uploads').map((r) => `${r.method} ${r.path}`),
    [],
    'no upload after the withdrawal',
  );
  for (const id of ids) assert.equal(stored(id), 0);
  // And asked again, B still sends nothing.
  assert.equal(await sendNowEnds(b), 'no-consent');
  assert.deepEqual(
    requests(mark, '/api/v1/').map((r) => `${r.method} ${r.path}`),
    ['POST /api/v1/sessions/summaries'],
    'only the summaries already in flight',
  );
  await context.close();
});

const syncTags = (page: Page) =>
  page.evaluate(() => navigator.serviceWorker.ready.then((r) => (r as unknown as { sync: { getTags(): Promise<string[]> } }).sync.getTags()));

test('consent withdrawn while a Background Sync is pending: the service worker reads the stored answer and sends nothing', async () => {
  const context = await e2e.browser.newContext();
  const b = await openAgentPage(context, e2e.server.url);
  await start(b, true, true);
  await b.waitForFunction(() => navigator.serviceWorker.controller !== null);
  await until(async () => (await seen(b)).leader === true, 'tab B to be the elected sender');
  await b.evaluate(() => W().Ferry.setConsent(true));
  assert.equal(await sendNowEnds(b), 'idle', 'consent granted, nothing to send yet');

  const ids = [await endedSession(context, b), await endedSession(context, b)];
  await context.setOffline(true);
  assert.equal(await sendNowEnds(b), 'offline', 'the pass failed for lack of network');
  await until(async () => (await syncTags(b)).includes('ferry-upload'), 'the ferry-upload sync tag');

  await b.evaluate(() => W().Ferry.setConsent(false));
  const mark = e2e.collector.logs.length;
  await context.setOffline(false);
  // Chromium fires the held sync on reconnecting; once its handler has finished, the tag is gone.
  await until(async () => !(await syncTags(b)).includes('ferry-upload'), 'the service worker to handle the sync', 15_000);
  // B's own `online` check stops on the stored answer too.
  await until(async () => (await seen(b)).phases.at(-1) === 'no-consent', "B's online check to end on consent");
  assert.deepEqual(
    requests(mark, '/api/v1/').map((r) => `${r.method} ${r.path}`),
    [],
    'nothing reached the collector after the withdrawal',
  );
  for (const id of ids) assert.equal(await e2e.collector.collector.store.getSession(id), undefined);
  await context.close();
});
