/** The Chromium and static file server an e2e test file shares: started before its tests, closed after. */
import { after, before } from 'node:test';
import type { Browser } from 'playwright-core';
import { startTestCollector, type TestCollector } from '../unit/server/harness.js';
import { launchBrowser } from './browser.js';
import { type StaticServer, startStaticServer } from './static-server.js';

export interface E2e {
  browser: Browser;
  server: StaticServer;
}

export const useBrowserAndServer = (): E2e => {
  const e2e = {} as E2e;
  before(async () => {
    [e2e.browser, e2e.server] = await Promise.all([launchBrowser(), startStaticServer()]);
  });
  after(async () => {
    await e2e.browser?.close();
    await e2e.server?.close();
  });
  return e2e;
};

export interface E2eWithCollector extends E2e {
  collector: TestCollector;
}

/**
 * Also a collector listening on 127.0.0.1, configured by `over` (called in the before hook; it
 * may start what the config names, e.g. an SMTP peer, which `closeLast` then stops after the
 * collector has closed its connections to it).
 */
export const useBrowserServerAndCollector = (
  over: () => Record<string, unknown> | Promise<Record<string, unknown>>,
  closeLast?: () => Promise<void>,
): E2eWithCollector => {
  const e2e = {} as E2eWithCollector;
  before(async () => {
    [e2e.browser, e2e.server, e2e.collector] = await Promise.all([
      launchBrowser(),
      startStaticServer(),
      Promise.resolve(over()).then((o) => startTestCollector({ listen: true, over: o })),
    ]);
  });
  after(async () => {
    await e2e.browser?.close();
    await e2e.server?.close();
    await e2e.collector?.close();
    await closeLast?.();
  });
  return e2e;
};
