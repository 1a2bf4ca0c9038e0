/** The viewer page in Chromium against a real collector: token, session list, messages. */

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { launchBrowser } from '../../support/browser.js';
import { countsWith, makeDetail, makeSummary } from './fixtures.js';
import { ADMIN, createUpload, startTestCollector, type TestCollector, uploadAll } from './harness.js';

let t: TestCollector;
let browser: Browser;
before(async () => {
  t = await startTestCollector({ listen: true });
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await t?.close();
});

test('the viewer lists sessions and shows a session’s messages with the admin token', async () => {
  const s = makeSummary({ application: 'ViewerApp', status: 'crashed', counts: countsWith({ error: 1, information: 2 }) });
  const quiet = makeSummary({ application: 'OtherApp' });
  await t.summaries([s, quiet]);
  const d = makeDetail([
    { sessionId: s.id, seq: 1, time: Date.now(), severity: 'information', category: 'boot', text: 'starting <b>up</b>' },
    { sessionId: s.id, seq: 2, time: Date.now(), severity: 'information', category: 'ui', text: 'clicked save' },
    {
      sessionId: s.id,
      seq: 3,
      time: Date.now(),
      severity: 'error',
      category: 'ui',
      text: 'save failed',
      exception: { name: 'TypeError', message: 'x is undefined' },
    },
  ]);
  const created = await createUpload(t, { sessionId: s.id, length: d.gz.length, sha256: d.sha256 });
  assert.equal((await uploadAll(t, created.headers.get('location')!, d.gz)).status, 204);

  const page = await browser.newPage();
  try {
    await page.goto(`${t.collector.url}/viewer/#/sessions`);
    await page.getByText('Enter the admin token').waitFor();
    await page.fill('#token', ADMIN);
    await page.click('#auth button[type=submit]');
    const row = page.locator('tbody tr', { hasText: 'ViewerApp' });
    await row.waitFor();
    assert.equal(await page.locator('tbody tr').count(), 2);
    assert.match(await row.innerText(), /crashed/);
    await row.locator('a').click();
    await page.locator('.vrow').nth(2).waitFor();
    const texts = await page.locator('.vrow .txt').allInnerTexts();
    assert.equal(texts[0], 'starting <b>up</b>', 'message text is shown as text, never as HTML');
    assert.equal(texts[2], 'save failed — TypeError: x is undefined');
    await page.selectOption('form.filters select[name=minSeverity]', 'error');
    await page.click('form.filters button[type=submit]');
    await page.getByText('1 of 3 message(s) shown.').waitFor();
    await page.click('a[data-nav=sessions]');
    await page.locator('.chart canvas').first().waitFor();
  } finally {
    await page.close();
  }
});

test('the viewer filters sessions by environment, user and context, and shows them in the session’s facts', async () => {
  const tagged = makeSummary({
    application: 'ContextApp',
    environment: 'staging-viewer',
    installationId: 'inst-viewer',
    user: { id: 'u-viewer', name: 'Ada', email: 'ada@example.com' },
    context: { plan: 'pro', beta: true },
  });
  const other = makeSummary({ application: 'ContextApp', environment: 'staging-viewer', user: { id: 'u-other' }, context: { plan: 'free' } });
  await t.summaries([tagged, other]);
  const page = await browser.newPage();
  try {
    await page.goto(`${t.collector.url}/viewer/#/sessions`);
    await page.fill('#token', ADMIN);
    await page.click('#auth button[type=submit]');
    await page.locator('tbody tr', { hasText: 'ContextApp' }).first().waitFor();
    await page.fill('form.filters input[name=environment]', 'staging-viewer');
    await page.fill('form.filters input[name=context]', 'plan=pro, beta=true');
    await page.click('form.filters button[type=submit]');
    await page.getByText('1 session(s) shown.').waitFor();
    assert.match(page.url(), /context\.plan=pro&context\.beta=true/, 'the filters are in the URL');
    const row = page.locator('tbody tr');
    assert.match(await row.innerText(), /staging-viewer\s+u-viewer/);
    await row.locator('a').click();
    await page.locator('dl.facts').waitFor();
    const facts = await page.locator('dl.facts').innerText();
    assert.match(facts, /Environment\s+staging-viewer/);
    assert.match(facts, /User\s+u-viewer · Ada · ada@example\.com/);
    assert.match(facts, /Context\s+plan=pro, beta=true/);
    assert.match(facts, /Installation\s+inst-viewer/);
    await page.goBack();
    await page.locator('form.filters input[name=context]').waitFor();
    assert.equal(await page.locator('form.filters input[name=context]').inputValue(), 'plan=pro, beta=true', 'back restores the filters');
    await page.fill('form.filters input[name=context]', '');
    await page.fill('form.filters input[name=user]', 'u-other');
    await page.click('form.filters button[type=submit]');
    await page.locator('tbody tr', { hasText: 'u-other' }).waitFor();
    assert.equal(await page.locator('tbody tr').count(), 1);
  } finally {
    await page.close();
  }
});

test('a wrong token is reported, not silently ignored', async () => {
  const page = await browser.newPage();
  try {
    await page.goto(`${t.collector.url}/viewer/#/sessions`);
    await page.fill('#token', 'wrong-token-wrong-token');
    await page.click('#auth button[type=submit]');
    await page.getByText(/Cannot show this view: 401 unauthorized/).waitFor();
  } finally {
    await page.close();
  }
});
