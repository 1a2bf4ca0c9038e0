/**
 * Session context in real Chromium against a real collector: environment, user, context tags and
 * the installation id on the session record and in the summary the collector stores and filters
 * by; the page URL without its query and fragment; beforeSummary scrubbing (and failing);
 * the package manifest; clearLocalData leaving nothing of the product behind.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { BrowserContext, Page } from 'playwright-core';
import type { SessionListReply } from '../../src/shared/protocol.js';
import { AGENT_PAGE, openAgentPage, readDb } from '../support/agentPage.js';
import { until } from '../support/browser.js';
import { useBrowserServerAndCollector } from '../support/e2e.js';
import { KEYS } from '../unit/server/harness.js';
import { openPackagerPage } from './packager-page.js';

const e2e = useBrowserServerAndCollector(() => ({ products: { ctx: { policy: 'all', keys: [{ key: KEYS.all, origins: ['*'] }] } } }));

/** Pages that threw into the page (an uncaught error or rejection), which the agent must never cause. */
const pageErrors: string[] = [];
const watch = (page: Page): Page => {
  page.on('pageerror', (e) => pageErrors.push(e.message));
  return page;
};

const sessionsAt = async (query: string): Promise<SessionListReply['sessions']> => {
  const res = await e2e.collector.req(`/api/v1/admin/sessions?product=ctx&${query}`, { admin: true });
  assert.equal(res.status, 200, await res.clone().text());
  return ((await res.json()) as SessionListReply).sessions;
};

/** The product database's installation id, read with the raw IndexedDB API. */
const instanceOf = (page: Page, product: string) =>
  page.evaluate(async (p) => {
    const db = await W().Inspect.open(p);
    const r = db.transaction('meta').objectStore('meta').get('instance');
    const v = await new Promise<{ id: string } | undefined>((resolve) => (r.onsuccess = () => resolve(r.result)));
    db.close();
    return v?.id;
  }, product);

/** Every `ferry:` database and localStorage key the page can see. */
const ferryTraces = (page: Page) =>
  page.evaluate(async () => ({
    databases: (await indexedDB.databases()).map((d) => d.name ?? '').filter((n) => n.startsWith('ferry:')),
    keys: Object.keys(localStorage).filter((k) => k.startsWith('ferry:')),
    others: Object.keys(localStorage).filter((k) => !k.startsWith('ferry:')),
  }));

test('environment, user and context reach the collector, which finds the session by them; the URL’s query and fragment stay behind; beforeSummary scrubs and a failing one loses nothing', async () => {
  const context = await e2e.browser.newContext();
  const url = e2e.collector.collector.url;

  // Session A: user set before init, context set after it started, the user changed later; a
  // beforeSummary hook takes the e-mail address and one tag out.
  const a = watch(await openAgentPage(context, e2e.server.url, `${AGENT_PAGE}?token=secret-token&email=ada%40example.com#access_token=xyz`));
  const idA = await a.evaluate(async () => {
    const F = W().Ferry;
    F.setUser({ id: 'u-1', name: 'Ada', email: 'ada@example.com' });
    F.init({
      product: 'ctx',
      application: 'editor',
      version: '1',
      environment: 'production',
      beforeSummary: (s) => {
        if (s.user) delete s.user.email;
        if (s.context) delete s.context.secret;
      },
    });
    await F.ready();
    F.configure({ environment: 'staging' }); // refused: the environment cannot change after init
    F.setContext('plan', 'pro');
    F.setContext('seats', 5);
    F.setContext('secret', 'do-not-send');
    F.log.information('Work', 'started');
    return F.getSessionId()!;
  });
  // A change after the session started goes on its record (written by this tab) without a message.
  await a.evaluate(() => W().Ferry.setUser({ id: 'u-2', name: 'Ada', email: 'ada@example.com' }));
  const stored = await until(async () => {
    const s = (await readDb(a, 'ctx')).sessions.find((x) => x.id === idA);
    return s?.user && (s.user as { id: string }).id === 'u-2' ? s : undefined;
  }, 'the new user on the stored record');
  assert.deepEqual(stored.user, { id: 'u-2', name: 'Ada' }, 'the scrubbed e-mail address is never stored');
  assert.deepEqual(stored.context, { plan: 'pro', seats: 5 });
  assert.equal(stored.environment, 'production');
  assert.equal(stored.url, `${e2e.server.url}${AGENT_PAGE}`);
  const installation = await instanceOf(a, 'ctx');
  assert.ok(installation);
  assert.equal(stored.installationId, installation);
  await a.close();

  // Session B: a hook that throws. The session is kept and sent, without what the hook scrubs.
  const b = watch(await openAgentPage(context, e2e.server.url));
  const idB = await b.evaluate(async () => {
    const F = W().Ferry;
    F.init({
      product: 'ctx',
      application: 'editor',
      version: '1',
      environment: 'production',
      beforeSummary: () => {
        throw new Error('scrubber broke');
      },
    });
    await F.ready();
    F.setUser({ id: 'u-3' });
    F.log.warning('Work', 'kept anyway');
    await F.flush();
    return F.getSessionId()!;
  });
  await b.close();

  // A third page sends both.
  const sender = watch(await openAgentPage(context, e2e.server.url));
  await sender.evaluate(
    async ([url, key]) => {
      W().Ferry.init({ product: 'ctx', application: 'editor', version: '1', server: { url, ingestKey: key, autoSendSessions: true } });
      await W().Ferry.ready();
      W().Ferry.sendNow();
    },
    [url, KEYS.all] as const,
  );
  const found = await until(
    async () => {
      const s = await sessionsAt(`environment=production&user=u-2&context.plan=pro&context.seats=5`);
      return s.length ? s : undefined;
    },
    'session A found by the read API filter',
    20_000,
  );
  assert.deepEqual(
    found.map((s) => s.summary.id),
    [idA],
  );
  const summary = found[0].summary;
  assert.equal(summary.url, `${e2e.server.url}${AGENT_PAGE}`, 'no query, no fragment');
  assert.deepEqual(summary.user, { id: 'u-2', name: 'Ada' });
  assert.deepEqual(summary.context, { plan: 'pro', seats: 5 });
  assert.equal(summary.installationId, installation);
  assert.equal(summary.status, 'ended');
  assert.deepEqual(
    (await sessionsAt(`installation=${installation}&user=u-1`)).map((s) => s.summary.id),
    [],
    'the user set first was replaced',
  );
  assert.deepEqual(
    (await sessionsAt('context.secret=do-not-send')).map((s) => s.summary.id),
    [],
  );

  const keptB = await until(async () => (await sessionsAt('')).find((s) => s.summary.id === idB), 'session B at the collector', 20_000);
  assert.equal(keptB.summary.url, '');
  assert.equal(keptB.summary.userAgent, '');
  assert.equal(keptB.summary.user, undefined);
  assert.equal(keptB.summary.environment, undefined);
  assert.equal(keptB.summary.installationId, undefined);
  assert.equal(keptB.summary.counts.warning, 1, 'the session and its messages are kept');
  assert.deepEqual(pageErrors, [], 'nothing was thrown into the pages');
  await context.close();
});

test('the package manifest carries each session’s context and the packaging installation', async () => {
  const context = await e2e.browser.newContext();
  const page = await openPackagerPage(context, e2e.server.url);
  const r = await page.evaluate(async () => {
    const { Ferry, Fx } = PW();
    Ferry.init({ product: 'ctx-pkg', application: 'editor', version: '2.0', environment: 'staging' });
    await Ferry.ready();
    Ferry.setUser({ id: 'u-9', email: 'nine@example.com' });
    Ferry.setContext('tenant', 'acme');
    const res = await Ferry.packager.send({ criteria: ['active'], destination: 'blob' });
    const contents = await Fx.api().readPackage(res.blob!);
    return { manifest: contents.manifest, summary: Ferry.getSessionSummary()! };
  });
  const s = r.manifest.sessions[0];
  assert.equal(s.environment, 'staging');
  assert.deepEqual(s.user, { id: 'u-9', email: 'nine@example.com' });
  assert.deepEqual(s.context, { tenant: 'acme' });
  assert.ok(s.installationId);
  assert.equal(r.manifest.creator.installationId, s.installationId);
  assert.equal(r.manifest.creator.environment, 'staging');
  assert.equal(r.summary.installationId, s.installationId);
  await context.close();
});

const startIn = (page: Page, product: string) =>
  page.evaluate(
    async ([p, url, key]) => {
      const F = W().Ferry;
      F.init({ product: p, application: 'editor', version: '1', server: { url, ingestKey: key, autoSendSessions: false } });
      await F.ready();
      F.setUser({ id: 'u-1' });
      F.log.error('Work', 'something failed');
      await F.flush();
      await F.setConsent(true);
      return F.getSessionId()!;
    },
    [product, e2e.collector.collector.url, KEYS.all] as const,
  );

test('clearLocalData deletes the product’s database and keys while tabs record, stops every tab, and init() starts afresh', async () => {
  const context: BrowserContext = await e2e.browser.newContext();
  const a = watch(await openAgentPage(context, e2e.server.url));
  const b = watch(await openAgentPage(context, e2e.server.url));
  // An earlier, ended session; a second tab recording the product now; another product's data.
  const first = watch(await openAgentPage(context, e2e.server.url));
  await startIn(first, 'ctx');
  await first.close();
  const idA = await startIn(a, 'ctx');
  const idB = await startIn(b, 'ctx');
  const oldInstallation = await instanceOf(a, 'ctx');
  await a.evaluate(async () => {
    // A stray end mark, as a tab closing before its end was stored leaves one; keys the agent must not touch.
    localStorage.setItem('ferry:ctx:ended:0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b', '1');
    localStorage.setItem('app-setting', 'kept');
  });
  const other = watch(await openAgentPage(context, e2e.server.url));
  await other.evaluate(async () => {
    // Another product of the same origin, through a second copy of nothing but IndexedDB.
    const r = indexedDB.open('ferry:ctx-other', 1);
    await new Promise((resolve) => (r.onsuccess = resolve));
    r.result.close();
    localStorage.setItem('ferry:ctx-other:watermark', '{}');
  });
  const before = await ferryTraces(a);
  assert.ok(before.databases.includes('ferry:ctx'));
  assert.ok(before.keys.includes('ferry:ctx:watermark'));
  assert.equal((await readDb(a, 'ctx')).sessions.length, 3);

  // Tab A clears while tab B records (and holds its own connection to the database).
  await a.evaluate(() => W().Ferry.clearLocalData());
  const after = await ferryTraces(a);
  assert.deepEqual(after.databases, ['ferry:ctx-other'], 'only the other product’s database is left');
  assert.deepEqual(after.keys, ['ferry:ctx-other:watermark']);
  assert.deepEqual(after.others, ['app-setting']);
  assert.equal(await a.evaluate(() => W().Ferry.getSessionId()), undefined, 'tab A is stopped');
  await until(() => b.evaluate(() => W().Ferry.getSessionId() === undefined), 'tab B stopped too');

  // Neither tab writes anything more: logging and flushing bring nothing back.
  await b.evaluate(async () => {
    W().Ferry.log.error('Work', 'after the clear');
    W().Ferry.setContext('plan', 'pro');
    await W().Ferry.flush();
  });
  await a.evaluate(async () => {
    W().Ferry.log.error('Work', 'after the clear, here too');
    await W().Ferry.flush();
    await W().Ferry.clearLocalData(); // a second call finds nothing and does no harm
  });
  assert.deepEqual((await ferryTraces(b)).databases, ['ferry:ctx-other']);

  // init() again starts a fresh session with a new installation id, without the old user.
  const fresh = await a.evaluate(async () => {
    const F = W().Ferry;
    F.init({ product: 'ctx', application: 'editor', version: '1' });
    await F.ready();
    return F.getSessionSummary()!;
  });
  assert.notEqual(fresh.id, idA);
  assert.notEqual(fresh.id, idB);
  assert.equal(fresh.user, undefined, 'user and context were forgotten');
  assert.ok(fresh.installationId);
  assert.notEqual(fresh.installationId, oldInstallation);
  assert.equal(fresh.storageReset, undefined, 'a deliberate clear is not reported as lost storage');
  const now = await readDb(a, 'ctx');
  assert.deepEqual(
    now.sessions.map((s) => s.id),
    [fresh.id],
    'nothing of before the clear',
  );
  assert.deepEqual(pageErrors, []);
  await context.close();
});
