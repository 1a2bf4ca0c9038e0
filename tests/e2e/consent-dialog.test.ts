// The consent dialog with consent.required: nothing is uploaded before the user answers; "Allow"
// stores the answer once and every tab hears it (then sending starts); the prompt limit holds
// across reloads; and `initialize` handlers change options before anything starts.
// (Withdrawal stopping the sender in another tab and the service worker: consent.test.ts.)

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { BrowserContext, Page } from 'playwright-core';
import { until } from '../support/browser.js';
import { useBrowserServerAndCollector } from '../support/e2e.js';
import { axeViolations, ferryUi, shot, UI_PAGE } from '../support/ui.js';
import { KEYS } from '../unit/server/harness.js';

const PRODUCT = 'asked';
const e2e = useBrowserServerAndCollector(() => ({ products: { [PRODUCT]: { policy: 'all', keys: [{ key: KEYS.all, origins: ['*'] }] } } }));

const CONSENT = { required: true, companyName: 'Acme Corp', serviceName: 'Acme Editor', privacyPolicyUrl: 'https://acme.example/privacy', promptLimit: 5 };

/** The test page with the agent started (consent required, auto-send on); records consent events. */
const start = async (context: BrowserContext, consent: Record<string, unknown> = CONSENT): Promise<Page> => {
  const page = await context.newPage();
  await page.goto(e2e.server.url + UI_PAGE);
  await page.waitForFunction(() => (window as unknown as { ferryLoaded?: boolean }).ferryLoaded === true);
  await page.evaluate(
    async ([url, key, product, consent]) => {
      const w = window as unknown as { consents: boolean[] };
      w.consents = [];
      W().Ferry.on('consent', (c) => w.consents.push(c.granted));
      W().Ferry.init({ product, application: 'Editor', version: '1', consent, server: { url, ingestKey: key, autoSendSessions: true } });
      await W().Ferry.ready();
    },
    [e2e.collector.collector.url, KEYS.all, PRODUCT, consent] as const,
  );
  return page;
};

const consents = (page: Page) => page.evaluate(() => (window as unknown as { consents: boolean[] }).consents);

test('consent required and unanswered: nothing is uploaded; Allow in the dialog stores it, every tab hears it, and the waiting session goes', async () => {
  const context = await e2e.browser.newContext({ viewport: { width: 900, height: 640 } });
  const other = await start(context);
  // A session that logs and ends before anyone answered.
  const ended = await start(context);
  const endedId = await ended.evaluate(async () => {
    W().Ferry.log.error('Save', 'failed before consent');
    await W().Ferry.flush();
    return W().Ferry.getSessionId()!;
  });
  await ended.close();
  const page = await start(context);
  // The first tab is the elected sender; asked to send, its pass stops on consent.
  const phase = await other.evaluate(
    () =>
      new Promise<string>((resolve) => {
        const off = W().Ferry.on('state', (s) => {
          if (!['summaries', 'compressing', 'uploading'].includes(s.phase)) {
            off();
            resolve(s.phase);
          }
        });
        W().Ferry.sendNow();
      }),
  );
  assert.equal(phase, 'no-consent');
  assert.equal(await e2e.collector.collector.store.getSession(endedId), undefined, 'nothing reached the collector');

  const answer = page.evaluate(() => W().Ferry.showConsentDialog());
  const d = ferryUi(page, 'consent').locator('dialog');
  await d.getByRole('heading', { name: 'Help improve Acme Editor' }).waitFor();
  assert.match((await d.locator('p').first().textContent()) ?? '', /^May Acme Corp collect diagnostic records of how Acme Editor runs/);
  assert.equal(await d.getByRole('link', { name: 'Privacy policy' }).getAttribute('href'), 'https://acme.example/privacy');
  assert.equal(await d.evaluate((el: HTMLDialogElement) => el.matches(':modal')), true);
  await shot(page, 'consent-dialog');
  assert.deepEqual(await axeViolations(page), [], 'axe: the consent dialog');
  await d.getByRole('button', { name: 'Allow' }).click();
  assert.equal(await answer, true);
  await ferryUi(page, 'consent').waitFor({ state: 'detached' });
  await until(async () => (await consents(other)).includes(true), 'the other tab to hear the answer');
  assert.equal(await other.evaluate(() => W().Ferry.getConsent()), true);
  // Granting asks the sender to pass at once: the session waiting since before consent goes.
  await until(async () => (await e2e.collector.collector.store.getSession(endedId))?.detail, 'the waiting session to reach the collector', 15_000);
  // Answered: asking again shows nothing and answers at once, in any tab.
  assert.equal(await other.evaluate(() => W().Ferry.showConsentDialog()), true);
  assert.equal(await ferryUi(other, 'consent').count(), 0);
  await context.close();
});

test('the prompt limit holds across reloads; initialize handlers change the options before the agent starts', async () => {
  const context = await e2e.browser.newContext();
  const page = await context.newPage();
  /** Loads the page, has an initialize handler lower promptLimit from 5 to 2 (as an app's own record might), asks, and dismisses with Escape. */
  const ask = async (): Promise<{ shown: boolean; answer: boolean | null }> => {
    await page.goto(e2e.server.url + UI_PAGE);
    await page.waitForFunction(() => (window as unknown as { ferryLoaded?: boolean }).ferryLoaded === true);
    await page.evaluate(
      ([url, key, product, consent]) => {
        const { Ferry } = W();
        Ferry.on('initialize', (e) => {
          e.options.consent = { ...e.options.consent, promptLimit: 2 };
        });
        Ferry.init({ product, application: 'Editor', version: '1', consent, server: { url, ingestKey: key } });
        (window as unknown as { answer: Promise<boolean | undefined> }).answer = Ferry.showConsentDialog();
      },
      [e2e.collector.collector.url, KEYS.all, `${PRODUCT}-limit`, CONSENT] as const,
    );
    const answered = page.evaluate(() => (window as unknown as { answer: Promise<boolean | undefined> }).answer.then((a) => a ?? null));
    const shown = await Promise.race([
      answered.then(() => false),
      ferryUi(page, 'consent')
        .locator('dialog')
        .waitFor()
        .then(
          () => true,
          () => false,
        ),
    ]);
    if (shown) await page.keyboard.press('Escape');
    return { shown, answer: await answered };
  };
  const first = await ask();
  assert.deepEqual(first, { shown: true, answer: null }, 'shown, dismissed without an answer');
  const second = await ask();
  assert.deepEqual(second, { shown: true, answer: null }, 'shown again after a reload');
  const third = await ask();
  assert.deepEqual(third, { shown: false, answer: null }, 'the limit (2, from the initialize handler) is used up');
  assert.equal(await page.evaluate(() => W().Ferry.getConsent()), false, 'still unanswered: nothing is sent');
  await context.close();
});
