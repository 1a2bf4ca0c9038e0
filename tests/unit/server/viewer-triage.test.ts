/**
 * The viewer's triage views in Chromium against a real collector: problems (groups), a group,
 * search across sessions, a session of 100k messages (virtualised, filters, deep links), the
 * package list and a package opened locally (read in a worker, compared with readPackage).
 * Each view is checked with axe-core and saved as a screenshot in test-results/screenshots/.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { readPackage } from '../../../src/core/package/read.js';
import type { LogMessage } from '../../../src/shared/message.js';
import { PATHS } from '../../../src/shared/protocol.js';
import type { SessionSummary } from '../../../src/shared/summary.js';
import { launchBrowser, until } from '../../support/browser.js';
import { countsWith, makeDetail, makePackage, makeSummary } from './fixtures.js';
import { ADMIN, createUpload, KEYS, startTestCollector, type TestCollector, uploadAll } from './harness.js';

const SHOTS = join(import.meta.dirname, '../../../test-results/screenshots');
const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const BIG = 100_000;

const messagesOf = (s: SessionSummary, n: number, orderId: number): LogMessage[] =>
  Array.from({ length: n }, (_, i): LogMessage => {
    const seq = i + 1;
    const time = s.startedAt + i * 50;
    if (seq % 1000 === 500)
      return {
        sessionId: s.id,
        seq,
        time,
        severity: 'error',
        category: 'window.onerror',
        text: `Uncaught TypeError: Cannot read properties of undefined (reading 'total') in order ${orderId}`,
        details: { orderId, cart: { items: 3, currency: 'EUR' } },
        exception: {
          name: 'TypeError',
          message: `Cannot read properties of undefined (reading 'total') for order ${orderId}`,
          stack: `TypeError: Cannot read properties of undefined\n    at computeTotal (https://shop.example.com/assets/cart.3f9a1c2b.js:10:5)\n    at onSubmit (https://shop.example.com/assets/cart.3f9a1c2b.js:88:3)\n    at HTMLButtonElement.dispatch (https://shop.example.com/assets/vendor.aa11bb22.js:2:100)`,
        },
      };
    if (seq % 1000 === 700)
      return { sessionId: s.id, seq, time, severity: 'warning', category: 'net', text: `payment gateway slow: ${400 + (i % 90)} ms`, details: { status: 200 } };
    return {
      sessionId: s.id,
      seq,
      time,
      severity: i % 7 === 0 ? 'verbose' : 'information',
      category: i % 2 ? 'ui' : 'router',
      text: seq === 3 ? 'checkout <b>started</b> for basket' : `rendered step ${seq} of the checkout flow`,
      details: { step: seq, route: '/checkout', took: 3 + (i % 17) },
    };
  });

describe('viewer: triage views in Chromium', () => {
  let t: TestCollector;
  let browser: Browser;
  let big: SessionSummary;
  const small: { summary: SessionSummary; messages: LogMessage[] }[] = [];
  let zip: Uint8Array;

  before(async () => {
    mkdirSync(SHOTS, { recursive: true });
    t = await startTestCollector({ listen: true });
    const now = Date.now();
    for (const [i, over] of [
      { application: 'shop', version: '2.1.0', environment: 'production', user: { id: 'u-ada' } },
      { application: 'shop', version: '2.2.0', environment: 'production', user: { id: 'u-bea' } },
      {
        application: 'shop',
        version: '2.2.0',
        environment: 'staging',
        user: { id: 'u-cy' },
        dropped: { beforeLog: 2, overflow: 0, pruned: 5, prunedSessions: 0, prunedMessages: 0 },
      },
    ].entries()) {
      const summary = makeSummary({ startedAt: now - (3 - i) * 3600_000, endedAt: now - (3 - i) * 3600_000 + 60_000, ...over });
      const messages = messagesOf(summary, 1500, 100 + i);
      small.push({
        summary: { ...summary, messageCount: messages.length, lastSeq: messages.length, counts: countsWith({ error: 2, warning: 1, information: 1497 }) },
        messages,
      });
    }
    zip = makePackage(small, {
      manifest: {
        description: 'Checkout fails when I press Pay.\nTried twice.',
        replyTo: 'ada@example.com',
        problems: [{ sessionId: small[0]?.summary.id ?? '', chunkSeq: 1201, reason: 'its text is number, not a string' }],
      },
    });
    const res = await t.req(PATHS.packages, {
      method: 'POST',
      key: KEYS.all,
      headers: { 'content-type': 'application/zip' },
      body: zip as Uint8Array<ArrayBuffer>,
    });
    assert.equal(res.status, 200, await res.text());

    const b = makeSummary({
      application: 'shop',
      version: '2.2.0',
      environment: 'production',
      user: { id: 'u-dee' },
      startedAt: now - 6000_000,
      endedAt: now - 1000,
    });
    const bm = messagesOf(b, BIG, 999);
    big = { ...b, messageCount: BIG, lastSeq: BIG, counts: countsWith({ error: 100, warning: 100, information: BIG - 200 }) };
    // Built before the summaries are sent: a pause longer than the server's keep-alive (5 s)
    // between two requests would race the connection's close.
    const d = makeDetail(bm);
    await t.summaries([big]);
    const created = await createUpload(t, { sessionId: big.id, length: d.gz.length, sha256: d.sha256 });
    assert.equal((await uploadAll(t, created.headers.get('location')!, d.gz, 4 * 1024 * 1024)).status, 204);
    await t.collector.indexed();
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await t?.close();
  });

  const open = async (hash: string, o: { width?: number } = {}): Promise<Page> => {
    const page = await browser.newPage({ viewport: { width: o.width ?? 1280, height: 900 } });
    page.on('pageerror', (e) => assert.fail(`page error: ${e.message}`));
    await page.goto(`${t.collector.url}/viewer/`);
    await page.evaluate((token) => sessionStorage.setItem('ferry-admin-token', token), ADMIN);
    await page.goto(`${t.collector.url}/viewer/${hash}`);
    return page;
  };
  const axe = async (page: Page, what: string): Promise<void> => {
    // Evaluated rather than added as a script tag: the viewer's CSP refuses inline scripts, as it should.
    await page.evaluate(AXE_SOURCE);
    const result = await page.evaluate(async () => {
      const r = await (
        window as unknown as { axe: { run(o: unknown): Promise<{ violations: { id: string; help: string; nodes: { target: string[] }[] }[] }> } }
      ).axe.run({
        runOnly: ['wcag2a', 'wcag2aa', 'best-practice'],
      });
      return r.violations.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`);
    });
    assert.deepEqual(result, [], `axe on ${what}`);
  };
  const shot = (page: Page, name: string) => page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: false });
  const status = (page: Page) => page.locator('#status').innerText();

  test('the problems page lists groups with counts and sparklines; a group shows its chart, stack and sessions', async () => {
    const page = await open('#/groups?sort=hits');
    try {
      const row = page.locator('tbody tr', { hasText: 'TypeError' });
      await row.waitFor();
      const cells = await row.locator('td').allInnerTexts();
      assert.match(cells[1], /TypeError\nCannot read properties of undefined \(reading <str>\) for order <n>/);
      assert.equal(cells[2], String(3 * 2 + 100), 'occurrences over all sessions');
      assert.equal(cells[3], '4');
      assert.equal(cells[4], '4');
      assert.equal(await row.locator('svg.spark polyline').count(), 1);
      await axe(page, 'problems');
      await shot(page, 'group-list');
      await row.locator('a').click();
      await page.locator('.chart canvas').first().waitFor();
      assert.match(await page.locator('pre.stack').innerText(), /at computeTotal/);
      assert.equal(await page.locator('tbody tr').count(), 4, 'the four sessions');
      await page.locator('.chart-plot').hover();
      await until(async () => (await page.locator('.chart-tip').innerText()).includes('occurrences'), 'the chart tooltip');
      await axe(page, 'group');
      await shot(page, 'group');
      await page.locator('tbody tr a').last().click();
      await page.locator('.message-detail').waitFor();
      assert.match(await page.locator('.message-detail').innerText(), /TypeError: Cannot read properties/, 'the link opens the session at its first hit');
    } finally {
      await page.close();
    }
  });

  test('search finds messages across sessions with filters and links to the message; the link reloads to the same view', async () => {
    const page = await open('#/search');
    try {
      await page.fill('input[name=q]', 'payment gateway');
      await page.fill('input[name=environment]', 'production');
      await page.click('form.filters button[type=submit]');
      await until(async () => /match/.test(await status(page)), 'results');
      const rows = page.locator('tbody tr');
      assert.equal(await rows.count(), 100, 'first page of matches');
      assert.match(page.url(), /q=payment\+gateway/);
      assert.match(page.url(), /environment=production/);
      const where = await page.locator('tbody tr td:nth-child(3)').allInnerTexts();
      assert.ok(where.every((w) => w.startsWith('demo · shop')));
      await axe(page, 'search');
      await shot(page, 'search-results');
      await page.fill('input[name=q]', 'order 101');
      await page.selectOption('select[name=minSeverity]', 'error');
      await page.fill('input[name=environment]', '');
      await page.click('form.filters button[type=submit]');
      await until(async () => (await status(page)) === '2 match(es).', 'the two errors of one session');
      await page.locator('tbody tr a').first().click();
      await page.locator('.message-detail').waitFor();
      const detail = await page.locator('.message-detail').innerText();
      assert.match(detail, /#1500 · error/);
      assert.match(page.url(), /seq=1500/);
      await page.reload();
      await page.locator('.message-detail').waitFor();
      assert.equal(await page.locator('.message-detail').innerText(), detail, 'the deep link reloads to the same message');
    } finally {
      await page.close();
    }
  });

  test('a session of 100k messages: virtualised, filtered, times with date and ms, loss accounting, deep links', async () => {
    const page = await open(`#/session/${big.id}`);
    try {
      await until(async () => (await status(page)).length > 0 && (await page.locator('.vlist').count()) === 1, 'the list', 60_000);
      await until(async () => (await page.locator('[role=status].muted').innerText()) === `${BIG} of ${BIG} message(s) shown.`, 'all messages', 60_000);
      const rendered = await page.locator('.vrow').count();
      assert.ok(rendered > 10 && rendered < 100, `${rendered} rows in the DOM`);
      const first = await page.locator('.vrow').first().innerText();
      assert.match(first, /checkout|rendered step 1 /);
      const time = await page.locator('.vrow .time').first().innerText();
      assert.match(time, /\d{2}.\d{2}.\d{4}.*\d{2}:\d{2}:\d{2}.\d{3}/, `date, time and ms: ${time}`);
      assert.match(await page.locator('.no-loss').innerText(), /Nothing was dropped/);
      await page.locator('.vlist').evaluate((e) => {
        e.scrollTop = e.scrollHeight;
      });
      await page.locator('.vrow .row[data-seq="100000"]').waitFor();
      await page.locator('.vlist').evaluate((e) => {
        e.scrollTop = 99_490 * 28;
      });
      await page.locator('.vrow .row[data-seq="99500"]').click();
      assert.match(await page.locator('.message-detail').innerText(), /at computeTotal/);
      assert.match(page.url(), /seq=99500/);
      await axe(page, 'session');
      await shot(page, 'session-100k');
      await page.selectOption('form.filters select[name=minSeverity]', 'error');
      await page.fill('form.filters input[name=q]', 'order 999');
      await page.click('form.filters button[type=submit]');
      await until(async () => (await page.locator('[role=status].muted').innerText()) === `100 of ${BIG} message(s) shown.`, 'the filter');
      assert.match(page.url(), /minSeverity=error/);
      await page.locator('.vlist').evaluate((e) => {
        e.scrollTop = 45 * 28;
      });
      await page.locator('.vrow .row[data-seq="50500"]').click();
      assert.match(page.url(), /seq=50500/);
    } finally {
      await page.close();
    }
  });

  test('the package list shows description, reply-to, sessions and size, and opens to its sessions, their loss and deep links', async () => {
    const page = await open('#/packages');
    try {
      const row = page.locator('tbody tr').first();
      await row.waitFor();
      const cells = await row.locator('td').allInnerTexts();
      assert.equal(cells[2], 'Checkout fails when I press Pay.\nTried twice.');
      assert.equal(cells[3], 'ada@example.com');
      assert.equal(cells[4], '3');
      assert.match(cells[5], /KiB/);
      await axe(page, 'packages');
      await shot(page, 'package-list');
      await row.locator('a').click();
      await until(async () => (await page.locator('tbody tr').count()) === 3, 'its sessions');
      assert.match(
        await page.locator('dd.problems').innerText(),
        /1 stored chunk\(s\) could not be read\s+session \S+, chunk 1201: its text is number, not a string/,
      );
      await page.locator('tbody tr', { hasText: 'staging' }).locator('a').click();
      await page.locator('.loss').waitFor();
      assert.match(await page.locator('.loss').innerText(), /2 removed by the app's beforeLog; 5 pruned for storage/);
      // Filters and the selected message are in the URL: a reload shows the same view.
      await page.selectOption('form.filters select[name=minSeverity]', 'warning');
      await page.fill('form.filters input[name=q]', 'gateway');
      await page.click('form.filters button[type=submit]');
      await until(async () => (await page.locator('[role=status].muted').innerText()) === '1 of 1500 message(s) shown.', 'the filter');
      await page.locator('.vrow .row[data-seq="700"]').click();
      const detail = await page.locator('.message-detail').innerText();
      await page.reload();
      await until(async () => (await page.locator('[role=status].muted').innerText()) === '1 of 1500 message(s) shown.', 'the filter after reload');
      assert.equal(await page.locator('form.filters select[name=minSeverity]').inputValue(), 'warning');
      assert.equal(await page.locator('form.filters input[name=q]').inputValue(), 'gateway');
      assert.equal(await page.locator('.message-detail').innerText(), detail);
      assert.equal(await page.locator('.vrow .row[aria-current]').getAttribute('data-seq'), '700', 'the selected row is marked');
    } finally {
      await page.close();
    }
  });

  test('a .ferry.zip opened locally is read in a worker and shows the same messages as readPackage', async () => {
    const page = await open('#/groups');
    try {
      let uploads = 0;
      page.on('request', (r) => {
        if (r.method() !== 'GET') uploads++;
      });
      await page.setInputFiles('#open-file', { name: 'report.ferry.zip', mimeType: 'application/zip', buffer: Buffer.from(zip) });
      await page.locator('h2', { hasText: 'report.ferry.zip' }).waitFor();
      assert.match(await page.locator('dl.facts').innerText(), /Checkout fails when I press Pay/);
      await axe(page, 'opened package');
      await shot(page, 'opened-package');
      const target = small[1].summary.id;
      await page.locator(`a[href="#/local/${target}"]`).click();
      await until(async () => /message\(s\) shown/.test(await page.locator('[role=status].muted').innerText()), 'the local session');
      const expected: LogMessage[] = [];
      const pkg = await readPackage(new Blob([zip as Uint8Array<ArrayBuffer>]));
      for await (const block of pkg.messageBlocks(target)) expected.push(...block);
      assert.equal(await page.locator('[role=status].muted').innerText(), `${expected.length} of ${expected.length} message(s) shown.`);
      const rows = await page
        .locator('.vrow .row')
        .evaluateAll((rs) => rs.map((r) => [Number(r.getAttribute('data-seq')), r.querySelector('.txt')?.textContent ?? '']));
      assert.ok(rows.length > 10);
      for (const [seq, text] of rows) {
        const m = expected.find((x) => x.seq === seq);
        assert.ok(m, `seq ${seq}`);
        const first = m.text.split('\n', 1)[0];
        assert.equal(text, m.exception ? `${first} — ${m.exception.name}: ${m.exception.message}` : first);
      }
      assert.equal(rows.find(([seq]) => seq === 3)?.[1], 'checkout <b>started</b> for basket', 'text, never HTML');
      await page.locator('.vlist').evaluate((e) => {
        e.scrollTop = 490 * 28;
      });
      await page.locator('.vrow .row[data-seq="500"]').click();
      assert.match(await page.locator('.message-detail').innerText(), /"currency": "EUR"/);
      assert.equal(uploads, 0, 'nothing was uploaded');
    } finally {
      await page.close();
    }
  });

  test('a narrow screen shows the problems and a session without sideways scrolling, accessibly', async () => {
    const page = await open('#/groups', { width: 390 });
    try {
      await page.locator('tbody tr').first().waitFor();
      await axe(page, 'narrow problems');
      assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1), 'no page-wide horizontal scroll');
      await shot(page, 'narrow-group-list');
      await page.goto(`${t.collector.url}/viewer/#/session/${small[0].summary.id}?seq=500`);
      await page.locator('.message-detail').waitFor();
      assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1), 'no page-wide horizontal scroll');
      await axe(page, 'narrow session');
      await shot(page, 'narrow-session');
    } finally {
      await page.close();
    }
  });
});
