// The error notice (errorNotice: true) and send on exit without a service worker: the notice after
// an uncaught error, which never takes the focus and shows at most once per interval; keyboard use
// and axe-core; "Report this problem" opens the dialog on this session; "Report problems
// automatically" marks the session, and with no service worker another tab — or the next page
// load — sends it with full detail, once.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { BrowserContext, Page } from 'playwright-core';
import { until } from '../support/browser.js';
import { useBrowserServerAndCollector } from '../support/e2e.js';
import { axeViolations, ferryUi, shot, UI_PAGE } from '../support/ui.js';
import { KEYS } from '../unit/server/harness.js';

const PRODUCT = 'noticed';
// Policy "none": a summary alone never gets its detail asked for, so a stored detail proves the forced send.
const e2e = useBrowserServerAndCollector(() => ({ products: { [PRODUCT]: { policy: 'none', keys: [{ key: KEYS.all, origins: ['*'] }] } } }));

const start = async (context: BrowserContext, errorNotice = true): Promise<Page> => {
  const page = await context.newPage();
  await page.goto(e2e.server.url + UI_PAGE);
  await page.waitForFunction(() => (window as unknown as { ferryLoaded?: boolean }).ferryLoaded === true);
  await page.evaluate(
    async ([url, key, product, errorNotice]) => {
      W().Ferry.init({ product, application: 'Editor', version: '1', errorNotice, server: { url, ingestKey: key } });
      await W().Ferry.ready();
    },
    [e2e.collector.collector.url, KEYS.all, PRODUCT, errorNotice] as const,
  );
  return page;
};

/** An uncaught error, thrown from a task of the page (as an app's bug would be). */
const throwUncaught = (page: Page, text: string) =>
  page.evaluate(
    (t) =>
      void setTimeout(() => {
        throw new Error(t);
      }),
    text,
  );

const detailsStored = (id: string) => e2e.collector.logs.filter((r) => r.msg === 'detail stored' && r.session === id).length;

test('an uncaught error shows one notice, without taking the focus; keyboard and axe; Report this problem opens the dialog on this session', async () => {
  const context = await e2e.browser.newContext({ viewport: { width: 900, height: 600 } });
  const page = await start(context);
  await page.focus('#app-input');
  await page.keyboard.type('abc');
  await throwUncaught(page, 'Cannot read properties of undefined');
  const notice = ferryUi(page, 'notice').locator('section');
  await notice.getByText('Something went wrong in this app.').waitFor();
  assert.equal(await page.evaluate(() => document.activeElement?.id), 'app-input', 'the focus stays where the user was typing');
  await page.keyboard.type('d');
  assert.equal(await page.inputValue('#app-input'), 'abcd', 'typing goes on');
  await shot(page, 'notice');
  assert.deepEqual(await axeViolations(page), [], 'axe: the notice');
  await throwUncaught(page, 'a second error');
  await until(() => page.evaluate(() => W().Ferry.getSessionSummary()!.counts.error === 2), 'the second error logged');
  assert.equal(await ferryUi(page, 'notice').count(), 1, 'one notice at a time');

  // Keyboard: Tab from the app reaches the notice's buttons (after the report button); Escape dismisses it.
  await page.keyboard.press('Tab'); // the page's <ferry-report-button>
  await page.keyboard.press('Tab');
  const focused = () =>
    page.evaluate(() => (document.activeElement?.shadowRoot?.activeElement as HTMLElement | null)?.textContent ?? document.activeElement?.tagName);
  assert.equal(await focused(), 'Report this problem');
  await page.keyboard.press('Tab');
  assert.equal(await focused(), 'Report problems automatically at the end of this session');
  await page.keyboard.press('Escape');
  await ferryUi(page, 'notice').waitFor({ state: 'detached' });
  // Within the interval, another error shows no new notice.
  await throwUncaught(page, 'a third error');
  await until(() => page.evaluate(() => W().Ferry.getSessionSummary()!.counts.error === 3), 'the third error logged');
  assert.equal(await ferryUi(page, 'notice').count(), 0, 'at most one notice per interval');

  // A new page load: a new notice; its "Report this problem" opens the dialog with only this session chosen.
  await page.close();
  const next = await start(context);
  await throwUncaught(next, 'broken again');
  await ferryUi(next, 'notice').getByRole('button', { name: 'Report this problem' }).click();
  const d = ferryUi(next, 'report').locator('dialog');
  await d.waitFor();
  assert.equal(await ferryUi(next, 'notice').count(), 0);
  assert.deepEqual(await d.locator('input[type=checkbox]:checked').evaluateAll((els) => els.map((e) => (e as HTMLInputElement).value)), ['active']);
  await context.close();
});

test('send on exit without a service worker: the notice marks the session; another tab sends it with full detail when it closes, the next load not again', async () => {
  const context = await e2e.browser.newContext();
  const a = await start(context);
  const b = await start(context, false);
  assert.equal(await a.evaluate(() => navigator.serviceWorker.controller), null, 'no service worker controls the page');
  const id = await a.evaluate(() => W().Ferry.getSessionId()!);
  await throwUncaught(a, 'it broke');
  await ferryUi(a, 'notice').getByRole('button', { name: 'Report problems automatically at the end of this session' }).click();
  await ferryUi(a, 'notice').getByText('Problems of this session will be reported when it ends.').waitFor();
  await a.evaluate(async () => {
    W().Ferry.log.information('Work', 'after the error', { step: 2 });
    await W().Ferry.flush();
  });
  assert.equal(detailsStored(id), 0, 'nothing sent while it runs (auto-send is off)');
  await a.close();
  // Tab B heard of the exit and sends the session, forced: the product's policy is "none".
  await until(() => detailsStored(id) === 1, "tab B to send A's session", 15_000);
  const stored = await e2e.collector.collector.store.getSession(id);
  assert.equal(stored?.summary.status, 'ended');
  assert.equal(stored?.detail?.messageCount, 2, 'full detail: the error and the message after it');
  // The collector logs a request after answering it, so the upload's last PATCH can be logged after
  // the detail is stored: wait for that line before marking where the reload's requests begin.
  await until(
    () => e2e.collector.logs.some((r) => r.msg === 'request' && r.method === 'PATCH' && r.status === 204 && String(r.path).startsWith('/api/v1/uploads')),
    "tab B's upload to be logged",
  );
  // B's next page load finds the mark, and the session already sent: nothing goes twice.
  const mark = e2e.collector.logs.length;
  await b.reload();
  await b.waitForFunction(() => (window as unknown as { ferryLoaded?: boolean }).ferryLoaded === true);
  await b.evaluate(
    async ([url, key, product]) => {
      W().Ferry.init({ product, application: 'Editor', version: '1', server: { url, ingestKey: key } });
      await W().Ferry.ready();
    },
    [e2e.collector.collector.url, KEYS.all, PRODUCT] as const,
  );
  // The page-load check holds the product's exit-send lock while it looks; wait until it is free.
  await until(
    () => b.evaluate(async () => !(await navigator.locks.query()).held?.some((l) => l.name?.startsWith('ferry:exit-send:'))),
    'the page-load check to be over',
  );
  assert.equal(detailsStored(id), 1, 'not sent twice');
  assert.deepEqual(
    e2e.collector.logs.slice(mark).filter((r) => r.msg === 'request' && String(r.path).startsWith('/api/v1/uploads')),
    [],
  );
  await context.close();
});

test('send on exit without a service worker and no other tab: setSendSessionsOnExit(true), close, and the next page load sends it', async () => {
  const context = await e2e.browser.newContext();
  const a = await start(context, false);
  const id = await a.evaluate(async () => {
    W().Ferry.setSendSessionsOnExit(true);
    W().Ferry.log.warning('Work', 'odd', { n: 1 });
    await W().Ferry.flush();
    return W().Ferry.getSessionId()!;
  });
  await a.close();
  assert.equal(detailsStored(id), 0);
  await start(context, false);
  await until(() => detailsStored(id) === 1, 'the next page load to send it', 15_000);
  assert.equal((await e2e.collector.collector.store.getSession(id))?.detail?.messageCount, 1);
  await context.close();
});
