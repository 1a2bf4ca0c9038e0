// The README's first example, copied as is into a page (an import map stands in for the bundler),
// reaches a collector configured as `npm start` configures its own: the product and key the
// example names, any origin.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { test } from 'node:test';
import { devProducts } from '../../scripts/dev-config.js';
import { PATHS } from '../../src/shared/protocol.js';
import { until } from '../support/browser.js';
import { useBrowserServerAndCollector } from '../support/e2e.js';

const readme = readFileSync(resolve(import.meta.dirname, '../../README.md'), 'utf8');
/** The first ```js block of the README, exactly as written. */
const example = /```js\n([\s\S]*?)```/.exec(readme)?.[1] ?? '';
const e2e = useBrowserServerAndCollector(() => ({ products: devProducts(['*']) }));

test("the README's first example, copied into a page as is, sends its session to the collector", async () => {
  assert.match(example, /from '@ferry-telemetry\/agent'/, 'the first example imports the package');
  const [, url] = /url: '([^']+)'/.exec(example) ?? [];
  assert.ok(url, 'the example names a collector URL');
  const context = await e2e.browser.newContext();
  // The example's collector address is answered by the test's collector.
  await context.route(`${url}/**`, async (route) => {
    const target = new URL(route.request().url());
    const to = new URL(target.pathname + target.search, e2e.collector.collector.url);
    await route.fulfill({ response: await route.fetch({ url: to.href }) });
  });
  // The upload URL the collector answers with is its own address. The page below is a routed
  // response, which Chromium treats as public, so its direct requests to a loopback address would
  // be refused (Local Network Access); routed, they are not.
  await context.route(`${e2e.collector.collector.url}/**`, async (route) => route.fulfill({ response: await route.fetch() }));
  await context.route(`${e2e.server.url}/readme.html`, (route) =>
    route.fulfill({
      contentType: 'text/html',
      body: `<!doctype html><meta charset="utf-8">
<script type="importmap">{ "imports": { "@ferry-telemetry/agent": "/dist/ferry.js" } }</script>
<script type="module">
${example}
window.exampleRan = true;
</script>`,
    }),
  );
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(`${e2e.server.url}/readme.html`);
  await page.waitForFunction(() => (window as unknown as { exampleRan?: boolean }).exampleRan === true);
  const stored = await until(() => e2e.collector.logs.find((r) => r.msg === 'detail stored'), 'the session detail at the collector', 30_000);
  assert.equal(typeof stored.session, 'string');
  assert.deepEqual(errors, [], 'the example threw nothing');
  const summaries = e2e.collector.logs.filter((r) => r.msg === 'request' && r.path === PATHS.summaries);
  assert.ok(summaries.length > 0, 'the summaries request is in the collector log');
  assert.ok(
    summaries.every((r) => r.status === 200),
    `every summary accepted: ${summaries.map((r) => r.status).join(', ')}`,
  );
  // Requests still in flight (the sender's next check) end with the test, not after it.
  await context.unrouteAll({ behavior: 'ignoreErrors' });
  await context.close();
});
