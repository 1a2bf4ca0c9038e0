// A page whose lazily loaded parts (the send side, the sender, the worker) could not be fetched —
// it went offline before they arrived — loads them when the network returns and delivers, instead
// of leaving the sender dead for the rest of the page's life (an outside report: "internal error
// in sender … Failed to fetch dynamically imported module", and that tab never sent again).

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { test } from 'node:test';
import type { Route } from 'playwright-core';
import { openAgentPage } from '../support/agentPage.js';
import { until } from '../support/browser.js';
import { useBrowserServerAndCollector } from '../support/e2e.js';
import { KEYS } from '../unit/server/harness.js';

const e2e = useBrowserServerAndCollector(() => ({ products: { lazy: { policy: 'all', keys: [{ key: KEYS.all, origins: ['*'] }] } } }));

// The files the agent loads only through import() (as the size report lists them) and its worker.
const report = JSON.parse(readFileSync(resolve(import.meta.dirname, '../../dist/size-report.json'), 'utf8')) as {
  entries: { entry: string; lazy: { files: string[] } }[];
};
const lazyFiles = new Set([...(report.entries.find((e) => e.entry === 'ferry.js')?.lazy.files ?? []), 'ferry-worker.js']);
const LAZY = (url: URL) => url.pathname.startsWith('/dist/') && lazyFiles.has(url.pathname.slice('/dist/'.length));

test('lazy parts that failed to load while offline are loaded when the browser is online again, and the session is delivered', async () => {
  const context = await e2e.browser.newContext();
  const failed: string[] = [];
  const offline = (route: Route) => {
    failed.push(new URL(route.request().url()).pathname);
    return route.abort('internetdisconnected');
  };
  await context.route(LAZY, offline);
  const page = await openAgentPage(context, e2e.server.url);
  const warnings: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'warning') warnings.push(m.text());
  });
  const id = await page.evaluate(
    async ([url, key]) => {
      W().Ferry.init({ product: 'lazy', application: 'web', version: '1', server: { url, ingestKey: key, autoSendSessions: true } });
      await W().Ferry.ready();
      W().Ferry.log.error('Checkout', 'payment failed', { code: 'E_CARD' });
      await W().Ferry.flush();
      return W().Ferry.getSessionId()!;
    },
    [e2e.collector.collector.url, KEYS.all] as const,
  );
  await until(() => warnings.some((w) => w.includes('could not load the send side')), 'the failed load is named on the console');
  assert.ok(
    failed.some((p) => p.includes('/chunks/start-')),
    `the send side's chunk was requested and failed (${failed.join(', ')})`,
  );
  assert.equal(
    e2e.collector.logs.filter((r) => r.msg === 'request' && String(r.path).startsWith('/api/v1/')).length,
    0,
    'nothing reached the collector while offline',
  );

  // The network returns: the browser fires `online`, the parts load, the error session is sent.
  await context.setOffline(true);
  await context.unroute(LAZY, offline);
  await context.setOffline(false);
  await until(() => e2e.collector.logs.some((r) => r.msg === 'detail stored' && r.session === id), 'the session detail at the collector', 30_000);
  assert.ok(!warnings.some((w) => w.includes('internal error')), `no internal error on the console: ${warnings.join(' | ')}`);
  await context.close();
});
