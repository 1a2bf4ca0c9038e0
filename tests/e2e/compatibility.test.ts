// Agent and collector agree on names and limits, and a misconfigured key pauses the sender instead
// of parking sessions: real Chromium, the built agent, a real collector on 127.0.0.1.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { BrowserContext, Page } from 'playwright-core';
import type { SenderState } from '../../src/shared/channel.js';
import { SUMMARY_LIMITS } from '../../src/shared/limits.js';
import { openAgentPage, readDb } from '../support/agentPage.js';
import { until } from '../support/browser.js';
import { useBrowserServerAndCollector } from '../support/e2e.js';
import { KEYS } from '../unit/server/harness.js';
import { openPackagerPage } from './packager-page.js';

const PRODUCT = 'Acme Suite';
const e2e = useBrowserServerAndCollector(() => ({
  products: { [PRODUCT]: { policy: 'all', keys: [{ key: KEYS.acme, origins: ['*'] }] } },
}));

const stored = (id: string) => e2e.collector.logs.filter((r) => r.msg === 'detail stored' && r.session === id).length;

/** A page of "Acme Suite" whose agent records every `state` event and console warning. */
const openAcme = async (
  context: BrowserContext,
  path: string,
  o: { key: string; autoSend: boolean; keepUrlQuery?: boolean },
): Promise<{ page: Page; warnings: string[] }> => {
  const page = await openAgentPage(context, e2e.server.url, path);
  const warnings: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'warning') warnings.push(m.text());
  });
  await page.evaluate(
    async ([product, url, key, autoSend, keepUrlQuery]) => {
      (window as unknown as { states: unknown[] }).states = [];
      W().Ferry.on('state', (s) => (window as unknown as { states: unknown[] }).states.push(s));
      W().Ferry.init({
        product: product as string,
        application: 'Éditeur de texte',
        version: '4.2.0 beta',
        server: { url: url as string, ingestKey: key as string, autoSendSessions: autoSend as boolean },
        privacy: { keepUrlQuery: keepUrlQuery as boolean },
      });
      await W().Ferry.ready();
    },
    [PRODUCT, e2e.collector.collector.url, o.key, o.autoSend, o.keepUrlQuery ?? false] as const,
  );
  return { page, warnings };
};

const statesOf = (page: Page) => page.evaluate(() => (window as unknown as { states: SenderState[] }).states);

test('product "Acme Suite" reaches a real collector end to end; a long user agent and URL are cut to the collector limits, not refused', async () => {
  const context = await e2e.browser.newContext({ userAgent: `Mozilla/5.0 (Test) ${'Extension/1.0 '.repeat(150)}` });
  const longPath = `/tests/e2e/pages/agent.html?${'q=long&'.repeat(900)}`;
  // The query is kept (by default the agent cuts it), so the URL is long enough to be cut.
  const { page: recording } = await openAcme(context, longPath, { key: KEYS.acme, autoSend: false, keepUrlQuery: true });
  const id = await recording.evaluate(async () => {
    W().Ferry.log.information('Open', 'document opened');
    W().Ferry.log.error('Save', 'save failed', { documentId: 42 });
    await W().Ferry.flush();
    return W().Ferry.getSessionId()!;
  });
  const local = await readDb(recording, PRODUCT);
  assert.ok(
    local.sessions.some((s) => s.id === id),
    'kept in the IndexedDB database "ferry:Acme Suite"',
  );
  await recording.close(); // pagehide: the session ends

  const { page: sender } = await openAcme(context, '/tests/e2e/pages/agent.html', { key: KEYS.acme, autoSend: true });
  await until(async () => (await statesOf(sender)).some((s) => s.leader), 'the page to become the sender');
  await sender.evaluate(() => W().Ferry.sendNow());
  await until(() => stored(id) === 1, 'the session’s detail stored by the collector');
  const s = await e2e.collector.collector.store.getSession(id);
  assert.equal(s?.summary.product, PRODUCT);
  assert.equal(s?.summary.application, 'Éditeur de texte');
  assert.equal(s?.summary.version, '4.2.0 beta');
  assert.equal(s?.summary.userAgent.length, SUMMARY_LIMITS.userAgent, 'the user agent cut to 1024 characters');
  assert.equal(s?.summary.url.length, SUMMARY_LIMITS.url, 'the URL cut to 4096 characters');
  assert.ok(s?.summary.url.startsWith(`${e2e.server.url}/tests/e2e/pages/agent.html?q=long&`));
  assert.equal(s?.detail?.messageCount, 2);
  const states = await statesOf(sender);
  assert.ok(
    states.every((x) => x.parked.length === 0),
    'nothing parked',
  );
  await context.close();
});

test('a 401 pauses the sender (the state says why, the console once); configure() with the right key resumes it at once, no session parked', async () => {
  const context = await e2e.browser.newContext();
  const { page: recording } = await openAcme(context, '/tests/e2e/pages/agent.html', { key: KEYS.acme, autoSend: false });
  const id = await recording.evaluate(async () => {
    W().Ferry.log.warning('Sync', 'slow');
    await W().Ferry.flush();
    return W().Ferry.getSessionId()!;
  });
  await recording.close();

  const { page, warnings } = await openAcme(context, '/tests/e2e/pages/agent.html', { key: 'a-revoked-key-0001', autoSend: true });
  await until(async () => (await statesOf(page)).some((s) => s.leader), 'the page to become the sender');
  await page.evaluate(() => W().Ferry.sendNow());
  const paused = await until(async () => (await statesOf(page)).find((s) => s.phase === 'paused'), 'the sender to pause');
  assert.equal(paused.paused, 'unauthorized');
  assert.match(paused.lastError ?? '', /answered 401: unauthorized/);
  const now = await page.evaluate(() => W().Ferry.getState());
  assert.equal(now?.phase, 'paused', 'getState() says so too');
  assert.equal(now?.paused, 'unauthorized');
  assert.deepEqual(paused.parked, []);
  const pauseMs = (paused.nextCheckAt ?? 0) - (await page.evaluate(() => Date.now()));
  assert.ok(pauseMs > 14 * 60_000 && pauseMs <= 30 * 60_000, `paused for ${pauseMs} ms`);
  // Asking again while paused sends nothing (the collector is not hammered with a bad key).
  const refusals = () => e2e.collector.logs.filter((r) => r.status === 401).length;
  const before = refusals();
  await page.evaluate(() => W().Ferry.sendNow());
  await page.evaluate(() => W().Ferry.flush());
  assert.equal(refusals(), before, 'no request while paused');
  assert.equal(warnings.filter((w) => w.includes('sending paused')).length, 1, 'said once on the console');
  const row = (await readDb(page, PRODUCT)).sessions.find((s) => s.id === id);
  assert.equal(row?.parked, undefined, 'the session is not parked');

  await page.evaluate((key) => W().Ferry.configure({ server: { ingestKey: key } }), KEYS.acme);
  await until(() => stored(id) === 1, 'the session sent once the key is fixed');
  const after = await until(async () => (await statesOf(page)).at(-1)?.phase === 'idle' && (await statesOf(page)).at(-1), 'the sender idle again');
  assert.equal(after.paused, undefined);
  assert.deepEqual(after.parked, []);
  assert.equal((await e2e.collector.collector.store.getSession(id))?.summary.product, PRODUCT);
  await context.close();
});

test('retryParked() on the script-tag global: before init it resolves 0; a session the collector refused is un-parked and sent', async () => {
  const context = await e2e.browser.newContext();
  const { page: recording } = await openAcme(context, '/tests/e2e/pages/agent.html', { key: KEYS.acme, autoSend: false });
  const id = await recording.evaluate(async () => {
    W().Ferry.log.error('Save', 'failed');
    await W().Ferry.flush();
    return W().Ferry.getSessionId()!;
  });
  await recording.close();
  let refuse = true;
  await context.route(`${e2e.collector.collector.url}/api/v1/uploads`, (route) =>
    refuse && route.request().method() === 'POST'
      ? route.fulfill({
          status: 400,
          contentType: 'application/json',
          headers: { 'access-control-allow-origin': '*' },
          body: JSON.stringify({ error: 'invalid-field', detail: 'Upload-Metadata: refused for this test' }),
        })
      : route.continue(),
  );
  const page = await openPackagerPage(context, e2e.server.url, '/tests/e2e/pages/packager-iife.html');
  const early = await page.evaluate(() => (window as unknown as { Ferry: ReturnType<typeof PW>['Ferry'] }).Ferry.retryParked());
  assert.equal(early, 0, 'before init: 0, no rejection');
  await page.evaluate(
    async ([product, url, key]) => {
      const Ferry = (window as unknown as { Ferry: ReturnType<typeof PW>['Ferry'] }).Ferry;
      (window as unknown as { states: unknown[] }).states = [];
      Ferry.on('state', (s) => (window as unknown as { states: unknown[] }).states.push(s));
      Ferry.init({ product, application: 'Éditeur de texte', version: '4.2.0 beta', server: { url, ingestKey: key, autoSendSessions: true } });
      await Ferry.ready();
      Ferry.sendNow();
    },
    [PRODUCT, e2e.collector.collector.url, KEYS.acme] as const,
  );
  const parked = await until(async () => (await statesOf(page)).find((s) => s.parked.length > 0), 'the refused session parked');
  assert.equal(parked.parked[0].id, id);
  refuse = false;
  const n = await page.evaluate(() => (window as unknown as { Ferry: ReturnType<typeof PW>['Ferry'] }).Ferry.retryParked());
  assert.equal(n, 1);
  await until(() => stored(id) === 1, 'the un-parked session sent');
  const last = await until(async () => (await statesOf(page)).find((s) => s.sent === 1), 'the sender to count it');
  assert.deepEqual(last.parked, [], 'no longer listed as parked');
  await context.close();
});
