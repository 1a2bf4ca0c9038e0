// The demo as `npm start` serves it (scripts/start.ts: collector, demo and viewer on one
// origin): a logged error reaches the collector by the automatic sender, and the "Report a
// problem" buttons package and send, or explain why they could not.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { ADMIN_PATHS, type SessionListReply } from '../../src/shared/protocol.js';
import { launchBrowser, until } from '../support/browser.js';
import { axeViolations, ferryUi, shot } from '../support/ui.js';

const ROOT = resolve(import.meta.dirname, '../..');

test('the demo of npm start: public API only; the error goes to the collector, the report button sends a package, consent asks, the notice shows', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-demo-'));
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'scripts/start.ts')], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    // FERRY_CONFIG empty: a ferry.config.json a developer keeps in the checkout does not apply.
    env: { ...process.env, FERRY_CONFIG: '', FERRY_PORT: '0', FERRY_DATA_DIR: join(dir, 'data'), FERRY_ADMIN_TOKEN: 'demo-test-admin-token-000000' },
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  let exited = false;
  child.once('exit', () => (exited = true));
  const browser = await launchBrowser();
  try {
    const base = await until(
      () => {
        if (exited) throw new Error(`npm start exited early:\n${out}`);
        return /demo\s+(http:\/\/\S+)\/demo\//.exec(out)?.[1];
      },
      'npm start to print the demo address',
      30_000,
    );
    const page = await browser.newPage({ viewport: { width: 1100, height: 1000 } });
    const pageErrors: string[] = [];
    page.on('pageerror', (e) => pageErrors.push(e.message));
    // The demo reads nothing of the agent's database itself: only the public API.
    await page.addInitScript(() => {
      const open = indexedDB.open.bind(indexedDB);
      (window as unknown as { demoOpens: string[] }).demoOpens = [];
      indexedDB.open = (name: string, version?: number) => {
        // The frame that called open(): the agent's (dist/) for its own database, demo.js were the demo to read it.
        const caller = new Error().stack?.split('\n')[2] ?? '';
        if (caller.includes('/demo/demo.js')) (window as unknown as { demoOpens: string[] }).demoOpens.push(name);
        return open(name, version);
      };
    });
    await page.goto(`${base}/demo/`);
    await page.locator('#status').filter({ hasText: 'this session' }).waitFor();
    const sessionId = /this session\s+(\S+)/.exec(await page.locator('#status').innerText())![1];

    await page.click('[data-log="error"]');
    const admin = { headers: { authorization: 'Bearer demo-test-admin-token-000000' } };
    const stored = async () => {
      const res = await fetch(`${base}${ADMIN_PATHS.sessions}?product=${encodeURIComponent('Acme Suite')}`, admin);
      return ((await res.json()) as SessionListReply).sessions.find((s) => s.summary.id === sessionId);
    };
    await until(async () => (await stored())?.detail, 'the error to send the running session to the collector', 30_000);
    await page.locator('#sender').filter({ hasText: 'this tab is the sender' }).waitFor();
    await page
      .locator('#events')
      .filter({ hasText: /^alert at .*: 1 message\(s\), last error "error button clicked"/ })
      .waitFor();
    await page.locator('#sessions').filter({ hasText: 'running (this tab)' }).waitFor();

    // beforeLog scrubbing: the address never reaches the session.
    await page.click('#scrub');
    await page
      .locator('#status')
      .filter({ hasText: /dropped\s+beforeLog 0/ })
      .waitFor();

    // The uncaught error shows the notice.
    await page.click('#throw');
    await ferryUi(page, 'notice').getByText('Something went wrong in this app.').waitFor();
    await shot(page, 'demo');
    assert.deepEqual(await axeViolations(page), [], 'axe: the demo page with the notice');

    // The report button: the dialog sends this session and the new ones to the collector.
    await page.click('ferry-report-button');
    const d = ferryUi(page, 'report').locator('dialog');
    await d.locator('textarea').fill('The save button does nothing');
    await d.getByRole('button', { name: 'Send report' }).click();
    await d
      .locator('.pad')
      .getByText(/^Sent \d+ sessions, [\d.]+ (B|KB)\. Thank you!$/)
      .waitFor();
    await d.getByRole('button', { name: 'Close' }).click();

    // Consent: asked once, answered, then not asked again.
    await page.click('#consent-ask');
    await ferryUi(page, 'consent').getByRole('button', { name: 'Allow' }).click();
    await page.locator('#consent-state').filter({ hasText: 'consent: granted' }).waitFor();
    await page.click('#consent-revoke');
    await page.locator('#consent-state').filter({ hasText: 'consent: not granted' }).waitFor();
    await page.click('#consent-ask');
    await page.locator('#consent-state').filter({ hasText: 'consent: not granted' }).waitFor();
    assert.equal(await ferryUi(page, 'consent').count(), 0, 'answered: not asked again');

    const packages = await fetch(`${base}${ADMIN_PATHS.packages}?product=${encodeURIComponent('Acme Suite')}`, admin).then((r) => r.json());
    assert.ok(JSON.stringify(packages).includes('The save button does nothing'), 'the report reached the collector');
    assert.deepEqual(await page.evaluate(() => (window as unknown as { demoOpens: string[] }).demoOpens), [], 'no IndexedDB open by the demo itself');
    assert.deepEqual(pageErrors, ['Demo uncaught error']);
  } finally {
    await browser.close();
    if (!exited) {
      const gone = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await gone;
    }
    rmSync(dir, { recursive: true, force: true });
  }
});
