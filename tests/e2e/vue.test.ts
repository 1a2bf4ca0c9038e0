// @ferry-telemetry/agent/vue in a real Vue 3 production build (tests/e2e/apps/vue), bundled by Vite from the repo's
// dist/ as an app would bundle the package.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Page } from 'playwright-core';
import type { StoredMessage } from '../support/agentPage.js';
import { DIST, openApp, readStored, useApp } from '../support/apps.js';
import { until } from '../support/browser.js';

// The feature flags Vue's bundler build expects its bundler to define (the Vue plugin for Vite
// would; this build has none).
const e2e = useApp('vue', { __VUE_OPTIONS_API__: 'true', __VUE_PROD_DEVTOOLS__: 'false', __VUE_PROD_HYDRATION_MISMATCH_DETAILS__: 'false' });
const PRODUCT = 'vue-app';

interface VueDetails {
  component?: string;
  componentTrace?: string[];
  info: string;
}
interface AppWindow {
  app: { previous: { message: string; component?: string; info: string }[] };
}

const storedMessage = async (page: Page, text: string): Promise<StoredMessage> =>
  until(async () => (await readStored(page, PRODUCT)).messages.find((m) => m.text === text), `a stored message "${text}"`);

const previousCalls = (page: Page) => page.evaluate(() => (window as unknown as AppWindow).app.previous);

test('ferry-vue.js imports only the agent from ferry.js: no agent of its own, and no Vue code', () => {
  const code = readFileSync(join(DIST, 'ferry-vue.js'), 'utf8');
  const imports = [...code.matchAll(/^import .* from "([^"]+)";$/gm)].map((m) => m[1]);
  assert.deepEqual(imports, ['./ferry.js']);
  assert.doesNotMatch(code, /indexedDB|BroadcastChannel/, 'no storage or channel code, which only the agent has');
});

test('FerryVue: a render error is stored with its stack, the component, its parents and Vue\u2019s info; the handler installed before still runs; the app keeps running', async () => {
  const { page, context, pageErrors, consoleErrors } = await openApp(e2e);
  await page.locator('#fallback').waitFor();
  assert.equal(await page.locator('#child').count(), 0);

  const m = await storedMessage(page, 'Bomb exploded while rendering');
  assert.equal(m.severity, 'error');
  assert.equal(m.category, 'UI', 'the plugin\u2019s category option');
  assert.equal(m.exception?.name, 'Error');
  assert.match(m.exception?.stack ?? '', /^Error: Bomb exploded while rendering\n\s+at /, 'the JavaScript stack');
  const details = m.details as VueDetails;
  assert.equal(details.component, 'BombItem');
  assert.deepEqual(details.componentTrace, ['BombItem', 'ItemPanel', 'ErrorGuard', 'ShopApp'], 'innermost first, up to the root');
  // Vue's production build names the phase by its error code: 1 is the render function.
  assert.equal(details.info, 'https://vuejs.org/error-reference/#runtime-1');

  const previous = await previousCalls(page);
  assert.deepEqual(
    previous,
    [{ message: 'Bomb exploded while rendering', component: 'BombItem', info: details.info }],
    'the earlier handler got the same call',
  );
  assert.ok(!consoleErrors.some((t) => t.includes('Bomb exploded')), 'with a handler of its own, the app decides what reaches the console');

  await page.locator('#counter').click();
  await page.locator('#counter', { hasText: 'clicked 1' }).waitFor();
  await page.locator('#retry').click();
  await page.locator('#child', { hasText: 'child rendered' }).waitFor();
  assert.equal(await page.locator('#fallback').count(), 0);
  assert.deepEqual(pageErrors, []);
  await context.close();
});

test('FerryVue: an event handler error is stored with its component; an app with no handler of its own gets the default category and still sees the error on the console', async () => {
  const { page, context, pageErrors, consoleErrors } = await openApp(e2e);
  await page.locator('#fallback').waitFor();

  await page.locator('#throw-in-handler').click();
  const inHandler = await storedMessage(page, 'Thrown in a click handler');
  assert.equal(inHandler.category, 'UI');
  // 5: a native event handler.
  assert.deepEqual(inHandler.details, { component: 'ShopApp', componentTrace: ['ShopApp'], info: 'https://vuejs.org/error-reference/#runtime-5' });
  assert.deepEqual((await previousCalls(page)).at(-1), {
    message: 'Thrown in a click handler',
    component: 'ShopApp',
    info: 'https://vuejs.org/error-reference/#runtime-5',
  });

  await page.locator('#throw-plain').click();
  const plain = await storedMessage(page, 'Thrown in the plain app');
  assert.equal(plain.category, 'Vue', 'the default category');
  assert.equal(plain.severity, 'error');
  assert.deepEqual(plain.details, { component: 'PlainApp', componentTrace: ['PlainApp'], info: 'https://vuejs.org/error-reference/#runtime-5' });
  await until(() => consoleErrors.some((t) => t.includes('Thrown in the plain app')), 'the error on the console, as Vue reports it without a handler');

  const { sessions, messages } = await readStored(page, PRODUCT);
  assert.equal(sessions.length, 1, 'both apps log into the one agent init() started');
  assert.equal(messages.filter((x) => x.text === 'Thrown in the plain app').length, 1);
  await page.locator('#counter').click();
  await page.locator('#counter', { hasText: 'clicked 1' }).waitFor();
  assert.deepEqual(pageErrors, []);
  await context.close();
});
