/** The Chromium and static file server an e2e test file shares: started before its tests, closed after. */
import { after, before } from 'node:test';
import type { Browser } from 'playwright-core';
import { launchBrowser } from './browser.js';
import { startStaticServer, type StaticServer } from './static-server.js';

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
