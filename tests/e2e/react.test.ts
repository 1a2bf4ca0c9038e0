// @ferry-telemetry/agent/react in a real React 19 production build (tests/e2e/apps/react), bundled by Vite from the
// repo's dist/ as an app would bundle the package.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Page } from 'playwright-core';
import type { StoredMessage } from '../support/agentPage.js';
import { DIST, openApp, readStored, useApp } from '../support/apps.js';
import { until } from '../support/browser.js';

const e2e = useApp('react');
const PRODUCT = 'react-app';

interface AppWindow {
  app: { onError: { message: string; componentStack: string }[]; rootCallbacks: string[] };
}

/** Polls the stored session until a message with `text` is there (an error is written at the next task). */
const storedMessage = async (page: Page, text: string): Promise<StoredMessage> =>
  until(async () => (await readStored(page, PRODUCT)).messages.find((m) => m.text === text), `a stored message "${text}"`);

/** The component names of a React component stack ("    at Bomb (url:line:col)" lines), innermost first. */
const componentsOf = (componentStack: string): string[] => [...componentStack.matchAll(/^\s*at (?:new )?([\w$]+)/gm)].map((m) => m[1]);

test('ferry-react.js imports the agent from ferry.js and React from the app: it carries no agent of its own', () => {
  const code = readFileSync(join(DIST, 'ferry-react.js'), 'utf8');
  const imports = [...code.matchAll(/^import .* from "([^"]+)";$/gm)].map((m) => m[1]).sort();
  assert.deepEqual(imports, ['./ferry.js', 'react']);
  assert.doesNotMatch(code, /indexedDB|BroadcastChannel/, 'no storage or channel code, which only the agent has');
});

test('FerryErrorBoundary: a render error shows the fallback, is stored with its stack and the component stack, the app keeps running, and reset renders the children again', async () => {
  const { page, context, pageErrors } = await openApp(e2e);
  await page.locator('#fallback').waitFor();
  assert.equal(await page.locator('#fallback p').textContent(), 'Something went wrong: Bomb exploded while rendering');
  assert.equal(await page.locator('#child').count(), 0, 'the children are not rendered while the fallback is');

  const m = await storedMessage(page, 'Bomb exploded while rendering');
  assert.equal(m.severity, 'error');
  assert.equal(m.category, 'Render', 'the boundary\u2019s category prop');
  assert.equal(m.exception?.name, 'Error');
  assert.equal(m.exception?.message, 'Bomb exploded while rendering');
  assert.match(m.exception?.stack ?? '', /^Error: Bomb exploded while rendering\n\s+at Bomb /, 'the JavaScript stack, thrown in Bomb');
  const { componentStack } = m.details as { componentStack: string };
  const names = componentsOf(componentStack);
  assert.deepEqual(names.slice(0, 3), ['Bomb', 'section', 'Panel'], `innermost first: the component that threw, then its parents: ${componentStack}`);
  assert.deepEqual(names.slice(-2), ['main', 'App'], 'up to the root component');

  const { onError, rootCallbacks } = await page.evaluate(() => (window as unknown as AppWindow).app);
  assert.deepEqual(onError, [{ message: 'Bomb exploded while rendering', componentStack }], 'onError got the same component stack');
  assert.deepEqual(rootCallbacks, ['Bomb exploded while rendering'], 'the root option ran (its callback too)');

  // The rest of the app still works.
  await page.locator('#counter').click();
  await page.locator('#counter', { hasText: 'clicked 1' }).waitFor();

  await page.locator('#retry').click();
  await page.locator('#child', { hasText: 'child rendered' }).waitFor();
  assert.equal(await page.locator('#fallback').count(), 0, 'reset() removed the fallback');
  // Written in the same commit as the boundary's message, so it would be stored by now.
  const { messages } = await readStored(page, PRODUCT);
  assert.equal(messages.filter((x) => x.text === 'Bomb exploded while rendering').length, 1, 'logged once: the root handler leaves it to the Ferry boundary');
  assert.deepEqual(pageErrors, []);
  await context.close();
});

test('reactErrorHandler as React 19 root options: an error another boundary caught, and an uncaught one, are stored with their component stacks', async () => {
  const { page, context, pageErrors } = await openApp(e2e);
  await page.locator('#fallback').waitFor();

  await page.locator('#throw-in-plain').click();
  await page.locator('#plain-fallback').waitFor();
  const caught = await storedMessage(page, 'Caught by the plain boundary');
  assert.equal(caught.severity, 'error');
  assert.equal(caught.category, 'React', 'the default category');
  assert.match(caught.exception?.stack ?? '', /at Trigger /);
  assert.deepEqual(componentsOf((caught.details as { componentStack: string }).componentStack), ['Trigger', 'PlainBoundary', 'main', 'App']);

  await page.locator('#throw-uncaught').click();
  await until(async () => (await page.locator('#other').innerHTML()) === '', 'React to unmount the root whose error nobody caught');
  const uncaught = await storedMessage(page, 'Nobody caught this');
  assert.equal(uncaught.severity, 'critical', 'the severity given to reactErrorHandler');
  assert.equal(uncaught.category, 'React');
  assert.deepEqual(componentsOf((uncaught.details as { componentStack: string }).componentStack), ['Trigger']);

  const { rootCallbacks } = await page.evaluate(() => (window as unknown as AppWindow).app);
  assert.deepEqual(rootCallbacks, ['Bomb exploded while rendering', 'Caught by the plain boundary']);
  // onUncaughtError replaced React's report to the window error event, so Ferry's own capture did not log it a second time.
  const { messages, sessions } = await readStored(page, PRODUCT);
  assert.deepEqual(
    messages.filter((x) => x.text === 'Nobody caught this').map((x) => x.category),
    ['React'],
  );
  assert.equal(sessions.length, 1, 'one agent, one session: init() in the app and the entry\u2019s log are the same agent');
  assert.deepEqual(pageErrors, []);
  await page.locator('#counter').click();
  await page.locator('#counter', { hasText: 'clicked 1' }).waitFor();
  await context.close();
});
