// The "Report a problem" dialog in real Chromium against a real collector and SMTP peer: what
// the user sees in each state (screenshots in test-results/screenshots/), what reaches the
// collector or the mailbox, the explanation and fallbacks when the collector cannot be reached,
// email without a relay (Web Share, else mailto: with a download), keyboard-only use and axe-core.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { BrowserContext, Page } from 'playwright-core';
import { useBrowserServerAndCollector } from '../support/e2e.js';
import { firstAttachment, header, startSmtp, type TestSmtp } from '../support/smtp.js';
import { axeViolations, ferryUi, shot, UI_PAGE } from '../support/ui.js';
import { KEYS } from '../unit/server/harness.js';

let smtp: TestSmtp;
const e2e = useBrowserServerAndCollector(
  async () => {
    smtp = await startSmtp();
    return {
      // Only product "reports" has recipients: "norelay" gets 404 email-not-configured.
      email: { smtp: { host: smtp.host, port: smtp.port, secure: false }, from: 'ferry@collector.test', to: [] },
      products: {
        reports: { policy: 'none', keys: [{ key: KEYS.all, origins: ['*'] }], emailTo: ['support@example.com'] },
        norelay: { policy: 'none', keys: [{ key: KEYS.other, origins: ['*'] }] },
      },
    };
  },
  () => smtp?.close(),
);

/** The test page with the agent started for `product` against `url`, one ended session stored, and some logging in this one. */
const open = async (context: BrowserContext, product: string, url: string, key: string = KEYS.all): Promise<Page> => {
  const page = await context.newPage();
  await page.goto(e2e.server.url + UI_PAGE);
  await page.waitForFunction(() => (window as unknown as { ferryLoaded?: boolean }).ferryLoaded === true);
  await page.evaluate(
    async ([product, url, key]) => {
      const { Ferry } = W();
      Ferry.init({ product, application: 'Editor', version: '4.2.0', server: { url, ingestKey: key } });
      await Ferry.ready();
      Ferry.log.information('Doc', 'opened', { id: 7 });
      Ferry.log.error('Save', 'save failed', { attempt: 2 });
    },
    [product, url, key] as const,
  );
  return page;
};

/** Opens the dialog from code; the promise (it resolves when the dialog closes) is not awaited. */
const openDialog = (page: Page, options: Record<string, unknown> = {}): void =>
  void page.evaluate((o) => W().Ferry.showReportDialog(o), options).catch(() => {});

const dialog = (page: Page) => ferryUi(page, 'report').locator('dialog');
/** The visible part of the dialog (the live region repeats what it says, for screen readers). */
const view = (page: Page) => dialog(page).locator('.pad');

test('send to the collector: the form preselects new + this session, counts them, and the collector stores the description and reply-to', async () => {
  const context = await e2e.browser.newContext({ viewport: { width: 900, height: 820 } });
  const page = await open(context, 'reports', e2e.collector.collector.url);
  await page.click('ferry-report-button');
  const d = dialog(page);
  await d.waitFor();
  assert.equal(await d.evaluate((el: HTMLDialogElement) => el.open && el.matches(':modal')), true, 'a modal <dialog>');
  // The host page's `color: red !important; font-size: 30px` does not reach into the shadow root.
  assert.notEqual(await d.locator('h2').evaluate((el) => getComputedStyle(el).color), 'rgb(255, 0, 0)');
  assert.deepEqual(await d.locator('input[type=checkbox]:checked').evaluateAll((els) => els.map((e) => (e as HTMLInputElement).value)), ['active', 'new']);
  await d
    .locator('output')
    .filter({ hasText: /^1 sessions, [\d.]+ (B|KB)$/ })
    .waitFor();
  assert.equal(await d.evaluate((el) => (el.getRootNode() as ShadowRoot).activeElement?.tagName), 'TEXTAREA', 'focus starts in the description');
  await d.locator('textarea').fill('Pressing Save does nothing; the second time the tab froze.');
  await d.locator('input[type=email]').fill('user@example.com');
  await shot(page, 'report-1-form');
  assert.deepEqual(await axeViolations(page), [], 'axe: the form');

  // The POST is held at the network so the progress state can be seen (and photographed).
  let release = (): void => {};
  const held = new Promise<void>((r) => (release = r));
  let arrived = (): void => {};
  const posted = new Promise<void>((r) => (arrived = r));
  await context.route(`${e2e.collector.collector.url}/api/v1/packages*`, async (route) => {
    arrived();
    await held;
    await route.continue();
  });
  const result = page.evaluate(() => new Promise((r) => W().Ferry.packager.on('sent', (s) => r({ ...s, blob: undefined }))));
  await d.getByRole('button', { name: 'Send report' }).click();
  await posted;
  await view(page).getByText('Sending…').first().waitFor();
  assert.equal(await d.locator('[role=status]').textContent(), 'Sending…', 'the live region says what is happening');
  await shot(page, 'report-2-progress');
  release();
  await view(page)
    .getByText(/^Sent 1 sessions, [\d.]+ (B|KB)\. Thank you!$/)
    .waitFor();
  await shot(page, 'report-3-sent');
  assert.deepEqual(await axeViolations(page), [], 'axe: the result');
  const sent = (await result) as { receipt: { reply: { package: string } } };
  const pkgs = await e2e.collector.collector.store.listPackages(10);
  const pkg = pkgs.find((p) => p.id === sent.receipt.reply.package);
  assert.equal(pkg?.description, 'Pressing Save does nothing; the second time the tab froze.');
  assert.equal(pkg?.replyTo, 'user@example.com');
  const id = await page.evaluate(() => W().Ferry.getSessionId()!);
  assert.equal((await e2e.collector.collector.store.getSession(id))?.detail?.counts.error, 1, 'this session, with its messages');

  await d.getByRole('button', { name: 'Close' }).click();
  await ferryUi(page, 'report').waitFor({ state: 'detached' });
  await context.close();
});

test('collector unreachable: the dialog says why in words, keeps the sessions, offers a retry and the fallbacks; saving to a file works', async () => {
  const context = await e2e.browser.newContext({ viewport: { width: 900, height: 820 } });
  // Port 1 on loopback: nothing listens, the connection is refused.
  const page = await open(context, 'reports', 'http://127.0.0.1:1');
  const outcome = page.evaluate(() => W().Ferry.showReportDialog({ description: 'It broke' }));
  const d = dialog(page);
  await d.getByRole('button', { name: 'Send report' }).click();
  await d.getByRole('heading', { name: 'The report could not be sent' }).waitFor();
  assert.equal(await d.locator('.error').textContent(), 'The telemetry server could not be reached. Check your connection.');
  await view(page).getByText('Nothing was lost: the sessions are kept on this device.').waitFor();
  assert.match(
    (await d.locator('details code').textContent()) ?? '',
    /sending the package to http:\/\/127\.0\.0\.1:1\/api\/v1\/packages failed: network error/,
  );
  assert.deepEqual(await d.locator('.actions button').allTextContents(), ['Try again', 'Email', 'Save to a file', 'Save into a folder', 'Close']);
  assert.equal(await d.evaluate((el) => (el.getRootNode() as ShadowRoot).activeElement?.textContent), 'Try again', 'focus moves to the retry');
  await shot(page, 'report-4-failed');
  assert.deepEqual(await axeViolations(page), [], 'axe: the failure');

  // Try again fails the same way (and says so again).
  await d.getByRole('button', { name: 'Try again' }).click();
  await d.getByRole('heading', { name: 'The report could not be sent' }).waitFor();

  // Save to a file: the save dialog is stubbed with a file in the origin's private file system (headless cannot show it).
  await page.evaluate(async () => {
    const root = await navigator.storage.getDirectory();
    (window as unknown as { showSaveFilePicker: unknown }).showSaveFilePicker = async () => root.getFileHandle('report.ferry.zip', { create: true });
  });
  await d.getByRole('button', { name: 'Save to a file' }).click();
  await view(page)
    .getByText(/^Saved 1 sessions, [\d.]+ (B|KB), as report\.ferry\.zip\.$/)
    .waitFor();
  const size = await page.evaluate(async () => (await (await (await navigator.storage.getDirectory()).getFileHandle('report.ferry.zip')).getFile()).size);
  assert.ok(size > 100, 'the package was written');
  await d.getByRole('button', { name: 'Close' }).click();
  assert.deepEqual(await outcome, { status: 'sent', destination: 'file', result: await outcome.then((o) => (o as { result: unknown }).result) });
  assert.equal(((await outcome) as { destination: string }).destination, 'file');
  await context.close();
});

test('email through the collector relay: the SMTP peer gets the package attached, with the subject and summary body', async () => {
  const context = await e2e.browser.newContext();
  // No server send here: the app switched it off, so the dialog offers email, file and folder.
  const page = await open(context, 'reports', e2e.collector.collector.url);
  await page.evaluate(() => W().Ferry.configure({ packager: { allowServer: false } }));
  const before = smtp.messages.length;
  openDialog(page);
  const d = dialog(page);
  await view(page).getByText('Send the report by').waitFor();
  assert.deepEqual(await d.locator('.actions button').allTextContents(), ['Cancel', 'Email', 'Save to a file', 'Save into a folder']);
  await shot(page, 'report-5-form-without-server');
  await d.locator('textarea').fill('Export to PDF hangs');
  await d.locator('input[type=email]').fill('reporter@example.com');
  await d.getByRole('button', { name: 'Email' }).click();
  await view(page)
    .getByText(/^Emailed 1 sessions, [\d.]+ (B|KB)\. Thank you!$/)
    .waitFor();
  assert.equal(smtp.messages.length, before + 1);
  const mail = smtp.messages[before];
  assert.deepEqual(mail.to, ['support@example.com']);
  assert.match(header(mail.raw, 'Subject') ?? '', /^\[Ferry\] reports Editor: 1 session, 1 error — Export to PDF hangs$/);
  assert.equal(header(mail.raw, 'Reply-To'), 'reporter@example.com');
  const body = mail.raw.replace(/=\r?\n/g, '');
  assert.ok(body.includes('Export to PDF hangs') && body.includes('Reply to: reporter@example.com'), 'the summary body');
  const attachment = firstAttachment(mail.raw);
  assert.match(attachment?.filename ?? '', /^reports-Editor-\d{8}-\d{6}-1sessions\.ferry\.zip$/);
  assert.equal(attachment?.content.subarray(0, 2).toString('latin1'), 'PK', 'a zip');
  await context.close();
});

test('email without a relay: Web Share with the file where it can share files, else a mailto: draft while the package downloads', async () => {
  // Chromium cannot share a .zip (its Web Share allows images, media, PDF and text files only), and
  // headless Linux has no share target at all: the Web Share case stubs it, only where sharing
  // this file is not possible. The mailto: case below uses no stub.
  const context = await e2e.browser.newContext({ acceptDownloads: true });
  // A string, not a function: tsx would wrap its inner functions in a helper the page lacks.
  await context.addInitScript({
    content: `(() => {
      const zip = new File([''], 'probe.ferry.zip', { type: 'application/zip' });
      if (typeof navigator.share === 'function' && navigator.canShare?.({ files: [zip] })) return;
      const shared = (window.shared = []);
      const define = (name, value) => Object.defineProperty(Navigator.prototype, name, { value, configurable: true, writable: true });
      define('canShare', (d) => Array.isArray(d.files) && d.files.every((f) => f instanceof File));
      define('share', async (d) => void shared.push({ title: d.title, text: d.text, files: (d.files ?? []).map((f) => ({ name: f.name, size: f.size, type: f.type })) }));
    })();`,
  });
  const page = await open(context, 'norelay', e2e.collector.collector.url, KEYS.other);
  openDialog(page, { description: 'Totals are wrong' });
  const d = dialog(page);
  await d.getByRole('button', { name: 'Send report' }).waitFor();
  await page.evaluate(() => W().Ferry.configure({ packager: { allowServer: false } }));
  // The dialog was built with the server on; reopen it with the new options.
  await d.getByRole('button', { name: 'Cancel' }).click();
  openDialog(page, { description: 'Totals are wrong' });
  await d.getByRole('button', { name: 'Email' }).click();
  await view(page)
    .getByText(/^Shared 1 sessions, [\d.]+ (B|KB)\.$/)
    .waitFor();
  const shared = await page.evaluate(
    () => (window as unknown as { shared: { title: string; text: string; files: { name: string; size: number; type: string }[] }[] }).shared,
  );
  assert.equal(shared.length, 1);
  assert.match(shared[0].files[0].name, /^norelay-Editor-\d{8}-\d{6}-1sessions\.ferry\.zip$/);
  assert.equal(shared[0].files[0].type, 'application/zip');
  assert.equal(shared[0].title, 'Problem report: norelay Editor 4.2.0 — Totals are wrong');
  assert.match(shared[0].text, /^Totals are wrong\n1 sessions, [\d.]+ (B|KB): norelay-Editor-/);
  await d.getByRole('button', { name: 'Close' }).click();

  // Now as Chromium itself answers (it cannot share a zip): the draft and the download.
  await page.evaluate(() => {
    Object.defineProperty(Navigator.prototype, 'canShare', { value: () => false, configurable: true });
  });
  openDialog(page, { description: 'Totals are wrong', emailTo: 'help@example.com' });
  const [download] = await Promise.all([page.waitForEvent('download'), d.getByRole('button', { name: 'Email' }).click()]);
  assert.match(download.suggestedFilename(), /^norelay-Editor-\d{8}-\d{6}-1sessions\.ferry\.zip$/);
  await view(page)
    .getByText(/^Your email app opens with a draft\. Attach the downloaded file norelay-Editor-.*\.ferry\.zip \(1 sessions, [\d.]+ (B|KB)\) and send it\.$/)
    .waitFor();
  const href = (await d.locator('a[data-mailto]').getAttribute('href')) ?? '';
  const mailto = new URL(href);
  assert.equal(mailto.protocol, 'mailto:');
  assert.equal(mailto.pathname, 'help@example.com');
  assert.equal(mailto.searchParams.get('subject'), 'Problem report: norelay Editor 4.2.0 — Totals are wrong');
  assert.match(mailto.searchParams.get('body') ?? '', /^Totals are wrong\n1 sessions, .*\n\n- Editor 4\.2\.0, running, .*, errors 1$/);
  await shot(page, 'report-6-mailto');
  assert.deepEqual(await axeViolations(page), [], 'axe: the mailto result');
  await context.close();
});

test('a share sheet dismissed marks nothing: the dialog says so and the sessions are still new', async () => {
  // The same stub as above (Chromium cannot share a .zip), here as the user dismissing the sheet.
  const context = await e2e.browser.newContext();
  await context.addInitScript({
    content: `(() => {
      const define = (name, value) => Object.defineProperty(Navigator.prototype, name, { value, configurable: true, writable: true });
      window.shareCalls = 0;
      define('canShare', (d) => Array.isArray(d.files) && d.files.every((f) => f instanceof File));
      define('share', async () => {
        window.shareCalls++;
        throw new DOMException('Share canceled', 'AbortError');
      });
    })();`,
  });
  // A session that ended on an earlier page load: the kind packaging marks (the running one never is).
  const earlier = await open(context, 'norelay', e2e.collector.collector.url, KEYS.other);
  const earlierId = await earlier.evaluate(async () => {
    await W().Ferry.flush();
    return W().Ferry.getSessionId()!;
  });
  await earlier.close();
  const page = await open(context, 'norelay', e2e.collector.collector.url, KEYS.other);
  await page.evaluate(() => W().Ferry.configure({ packager: { allowServer: false } }));
  const newIds = () => page.evaluate(async () => (await W().Ferry.packager.preview({ criteria: ['new'] })).map((s) => s.id));
  assert.ok((await newIds()).includes(earlierId), 'the earlier session is new before the attempt');
  openDialog(page, { description: 'Never mind' });
  const d = dialog(page);
  await d.getByRole('button', { name: 'Email' }).click();
  await view(page).getByText('Cancelled. Nothing was sent.').waitFor();
  assert.equal(await page.evaluate(() => (window as unknown as { shareCalls: number }).shareCalls), 1, 'the share sheet was offered');
  assert.ok((await newIds()).includes(earlierId), 'not marked packaged: a later "new" report still includes it');
  await context.close();
});

test('keyboard only: Tab reaches the button, Enter opens, Tab wraps inside the dialog, Escape closes and the focus returns', async () => {
  const context = await e2e.browser.newContext();
  const page = await open(context, 'reports', e2e.collector.collector.url);
  await page.focus('#app-input');
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement?.tagName), 'FERRY-REPORT-BUTTON');
  await page.keyboard.press('Enter');
  const d = dialog(page);
  await d.waitFor();
  await d
    .locator('output')
    .filter({ hasText: /sessions/ })
    .waitFor();
  const active = () =>
    d.evaluate((el) => {
      const a = (el.getRootNode() as ShadowRoot).activeElement as HTMLElement | null;
      return a ? `${a.tagName}:${a.tagName === 'TEXTAREA' ? (a as HTMLTextAreaElement).value : (a.getAttribute('value') ?? a.textContent ?? '')}` : 'none';
    });
  assert.equal(await active(), 'TEXTAREA:');
  await page.keyboard.type('Typed with the keyboard');
  // Forward through every control: 7 criteria, the email, Cancel, Send; then it wraps to the start.
  const seen: string[] = [];
  for (let i = 0; i < 11; i++) {
    await page.keyboard.press('Tab');
    seen.push(await active());
  }
  assert.deepEqual(seen, [
    'INPUT:active',
    'INPUT:new',
    'INPUT:error',
    'INPUT:crashed',
    'INPUT:critical',
    'INPUT:warning',
    'INPUT:completed',
    'INPUT:',
    'BUTTON:Cancel',
    'BUTTON:Send report',
    'TEXTAREA:Typed with the keyboard',
  ]);
  await page.keyboard.press('Shift+Tab');
  assert.equal(await active(), 'BUTTON:Send report', 'Shift+Tab wraps back to the end');
  // Space toggles a criterion; the count follows.
  for (let i = 0; i < 8; i++) await page.keyboard.press('Shift+Tab');
  assert.equal(await active(), 'INPUT:new');
  await page.keyboard.press('Space');
  assert.deepEqual(await d.locator('input[type=checkbox]:checked').evaluateAll((els) => els.map((e) => (e as HTMLInputElement).value)), ['active']);
  await page.keyboard.press('Escape');
  await ferryUi(page, 'report').waitFor({ state: 'detached' });
  assert.equal(await page.evaluate(() => document.activeElement?.tagName), 'FERRY-REPORT-BUTTON', 'focus back on the button that opened it');
  await context.close();
});

test('the script-tag build opens the dialog (its UI chunk comes from the ESM build next to it) and sends to the collector', async () => {
  const context = await e2e.browser.newContext();
  const page = await context.newPage();
  const requested: string[] = [];
  page.on('request', (r) => requested.push(new URL(r.url()).pathname));
  await page.goto(`${e2e.server.url}/tests/e2e/pages/packager-iife.html`);
  await page.waitForFunction(() => (window as unknown as { ferryLoaded?: boolean }).ferryLoaded === true);
  const id = await page.evaluate(
    async ([url, key]) => {
      const { Ferry } = W();
      Ferry.init({ product: 'reports', application: 'Editor', version: '4.2.0', server: { url, ingestKey: key } });
      await Ferry.ready();
      Ferry.log.error('Save', 'save failed', { attempt: 1 });
      void Ferry.showReportDialog({ description: 'From the script tag' }).catch(() => {});
      return Ferry.getSessionId()!;
    },
    [e2e.collector.collector.url, KEYS.all] as const,
  );
  const d = dialog(page);
  await d.getByRole('button', { name: 'Send report' }).click();
  await view(page)
    .getByText(/^Sent 1 sessions, [\d.]+ (B|KB)\. Thank you!$/)
    .waitFor();
  assert.ok(requested.includes('/dist/ferry.js'), 'the UI chunk came through the ESM build');
  const stored = await e2e.collector.collector.store.getSession(id);
  assert.ok(stored?.detail, 'the collector has the session with its messages');
  await context.close();
});
