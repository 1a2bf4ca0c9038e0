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
    await page.goto(`${t.collector.url}/viewer/`);
    await page.getByText('Enter the admin token').waitFor();
    await page.fill('#token', ADMIN);
    await page.click('#auth button[type=submit]');
    const row = page.locator('#sessions tbody tr', { hasText: 'ViewerApp' });
    await row.waitFor();
    assert.equal(await page.locator('#sessions tbody tr').count(), 2);
    assert.match(await row.innerText(), /crashed/);
    await row.click();
    await page.locator('#messages tbody tr').nth(2).waitFor();
    const texts = await page.locator('#messages tbody tr td:last-child').allInnerTexts();
    assert.equal(texts[0], 'starting <b>up</b>', 'message text is shown as text, never as HTML');
    assert.match(texts[2], /save failed\nTypeError: x is undefined/);
    await page.selectOption('#message-filters select[name=minSeverity]', 'error');
    await page.click('#message-filters button[type=submit]');
    await page.getByText('1 of 1 matching message(s).').waitFor();
    assert.equal((await page.locator('#chart rect').count()) > 0, true, 'the chart is drawn');
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
    await page.goto(`${t.collector.url}/viewer/`);
    await page.fill('#token', ADMIN);
    await page.click('#auth button[type=submit]');
    await page.locator('#sessions tbody tr', { hasText: 'ContextApp' }).first().waitFor();
    await page.fill('#filters input[name=environment]', 'staging-viewer');
    await page.fill('#filters input[name=context]', 'plan=pro, beta=true');
    await page.click('#filters button[type=submit]');
    await page.getByText('1 session(s) shown.').waitFor();
    const row = page.locator('#sessions tbody tr');
    assert.match(await row.innerText(), /staging-viewer\s+u-viewer/);
    await row.click();
    const facts = await page.locator('#session-facts').innerText();
    assert.match(facts, /Environment\s+staging-viewer/);
    assert.match(facts, /User\s+u-viewer · Ada · ada@example\.com/);
    assert.match(facts, /Context\s+plan=pro, beta=true/);
    assert.match(facts, /Installation\s+inst-viewer/);
    await page.fill('#filters input[name=context]', '');
    await page.fill('#filters input[name=user]', 'u-other');
    await page.click('#filters button[type=submit]');
    await page.locator('#sessions tbody tr', { hasText: 'u-other' }).waitFor();
    assert.equal(await page.locator('#sessions tbody tr').count(), 1);
  } finally {
    await page.close();
  }
});

test('a wrong token is reported, not silently ignored', async () => {
  const page = await browser.newPage();
  try {
    await page.goto(`${t.collector.url}/viewer/`);
    await page.fill('#token', 'wrong-token-wrong-token');
    await page.click('#auth button[type=submit]');
    await page.getByText(/Cannot list sessions: 401 unauthorized/).waitFor();
  } finally {
    await page.close();
  }
});
