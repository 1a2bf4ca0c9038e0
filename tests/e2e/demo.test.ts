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

const ROOT = resolve(import.meta.dirname, '../..');

test('the demo of npm start: the error goes to the collector, Report a problem sends a package or says why not', async () => {
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
    const page = await browser.newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (e) => pageErrors.push(e.message));
    await page.goto(`${base}/demo/`);
    await page.locator('#status').filter({ hasText: 'session' }).waitFor();
    const sessionId = /session\s+(\S+)/.exec(await page.locator('#status').innerText())![1];

    await page.click('[data-log="error"]');
    const admin = { headers: { authorization: 'Bearer demo-test-admin-token-000000' } };
    const stored = async () => {
      const res = await fetch(`${base}${ADMIN_PATHS.sessions}?product=${encodeURIComponent('Acme Suite')}`, admin);
      return ((await res.json()) as SessionListReply).sessions.find((s) => s.summary.id === sessionId);
    };
    await until(async () => (await stored())?.detail, 'the error to send the running session to the collector', 30_000);
    await page.locator('#sender').filter({ hasText: 'this tab is the sender' }).waitFor();

    await page.fill('#description', 'The save button does nothing');
    await page.click('[data-destination="server"]');
    await page
      .locator('#report')
      .filter({ hasText: /^sent 1 session\(s\), [\d.]+ KB, to server as Acme_Suite-Demo_App-\d{8}-\d{6}-1sessions\.ferry\.zip$/ })
      .waitFor();

    await page.click('[data-destination="email"]');
    await page.locator('#report').filter({ hasText: 'PackageSendError: emailing the package through' }).waitFor();
    assert.match(await page.locator('#report').innerText(), /answered 404: email-not-configured .*nothing was sent/);
    assert.deepEqual(pageErrors, []);
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
