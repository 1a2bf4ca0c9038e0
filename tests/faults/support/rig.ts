// What every browser fault file starts: Chromium, the static server for the agent's pages, a
// collector with one product that accepts every origin, and the fault proxy in front of it.
import { after, before } from 'node:test';
import type { Browser } from 'playwright-core';
import { launchBrowser } from '../../support/browser.js';
import { type StaticServer, startStaticServer } from '../../support/static-server.js';
import { KEYS, startTestCollector, type TestCollector } from '../../unit/server/harness.js';
import { type FaultProxy, startProxy } from './proxy.js';

export interface FaultRig {
  browser: Browser;
  server: StaticServer;
  t: TestCollector;
  proxy: FaultProxy;
}

/** Starts the rig before the file's tests and stops it after them; its fields are set once `before` has run. */
export const useFaultRig = (product: string): FaultRig => {
  const rig = {} as FaultRig;
  before(async () => {
    [rig.browser, rig.server, rig.t] = await Promise.all([
      launchBrowser(),
      startStaticServer(),
      startTestCollector({ listen: true, over: { products: { [product]: { policy: 'all', keys: [{ key: KEYS.all, origins: ['*'] }] } } } }),
    ]);
    rig.proxy = await startProxy({ port: Number(new URL(rig.t.collector.url).port) });
  });
  after(async () => {
    await rig.browser?.close();
    await rig.server?.close();
    await rig.proxy?.close();
    await rig.t?.close();
  });
  return rig;
};
