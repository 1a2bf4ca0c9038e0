// How the sender meets a collector that is busy, failing, or refusing: Playwright routes inject
// the answers into real requests to a real collector, and the page clock skips the waits.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { BrowserContext, Page, Route } from 'playwright-core';
import type { SenderState } from '../../src/shared/channel.js';
import { openAgentPage, readDb } from '../support/agentPage.js';
import { until } from '../support/browser.js';
import { useBrowserServerAndCollector } from '../support/e2e.js';
import { KEYS } from '../unit/server/harness.js';

const e2e = useBrowserServerAndCollector(() => ({
  products: {
    demo: { policy: 'all', keys: [{ key: KEYS.all, origins: ['*'] }] },
    quiet: { policy: 'none', keys: [{ key: KEYS.none, origins: ['*'] }] },
  },
}));

const stored = (id: string) => e2e.collector.logs.filter((r) => r.msg === 'detail stored' && r.session === id).length;

interface Setup {
  context: BrowserContext;
  page: Page;
  sessions: string[];
  /** Requests that reached the route, in order: "METHOD path". */
  seen: string[];
  /** The sender's `state` events, each with `at`, the page's time when it was published. */
  states(): Promise<(SenderState & { at: number })[]>;
}

/**
 * Ended sessions of `product`, then a sending page with the clock installed and `answer`
 * deciding each collector request (return undefined to let it through to the collector).
 */
const setup = async (
  answer: (route: Route, n: number) => Promise<void> | undefined,
  o: { product?: string; key?: string; sessions?: number; purge?: boolean; consentRequired?: boolean } = {},
): Promise<Setup> => {
  const product = o.product ?? 'demo';
  const key = o.key ?? KEYS.all;
  const context = await e2e.browser.newContext();
  const sessions: string[] = [];
  for (let i = 0; i < (o.sessions ?? 1); i++) {
    const p = await openAgentPage(context, e2e.server.url);
    sessions.push(
      await p.evaluate(
        async ([product, i]) => {
          W().Ferry.init({ product: product as string, application: 'app', version: '1' });
          await W().Ferry.ready();
          W().Ferry.log.warning('Fail', `session ${i}`);
          await W().Ferry.flush();
          return W().Ferry.getSessionId()!;
        },
        [product, i] as const,
      ),
    );
    await p.close();
  }
  const seen: string[] = [];
  await context.route(`${e2e.collector.collector.url}/**`, (route) => {
    const r = route.request();
    seen.push(`${r.method()} ${new URL(r.url()).pathname}`);
    return answer(route, seen.length) ?? route.continue();
  });
  await context.clock.install();
  const page = await openSender(context, { product, key, purge: o.purge ?? false, consentRequired: o.consentRequired ?? false });
  return { context, page, sessions, seen, states: () => page.evaluate(() => (window as unknown as { states: (SenderState & { at: number })[] }).states) };
};

/** A page whose agent sends automatically to the collector, recording its `state` events. */
const openSender = async (context: BrowserContext, o: { product: string; key: string; purge: boolean; consentRequired: boolean }): Promise<Page> => {
  const page = await openAgentPage(context, e2e.server.url);
  await page.evaluate(
    async ([url, key, product, purge, consentRequired]) => {
      (window as unknown as { states: unknown[] }).states = [];
      // With the page's time it was published at, to measure delays without the test's latency.
      W().Ferry.on('state', (s) => (window as unknown as { states: unknown[] }).states.push({ ...s, at: Date.now() }));
      W().Ferry.init({
        product: product as string,
        application: 'app',
        version: '1',
        server: { url: url as string, ingestKey: key as string, autoSendSessions: true, purgeSentSessions: purge as boolean },
        consent: { required: consentRequired as boolean },
      });
      await W().Ferry.ready();
    },
    [e2e.collector.collector.url, o.key, o.product, o.purge, o.consentRequired] as const,
  );
  return page;
};

const json = (route: Route, status: number, body: object, headers: Record<string, string> = {}) =>
  route.fulfill({
    status,
    contentType: 'application/json',
    headers: { 'access-control-allow-origin': '*', 'access-control-expose-headers': 'Retry-After', ...headers },
    body: JSON.stringify(body),
  });

/**
 * Skips to the sender's first check, once it holds the lock: the sender loads lazily after
 * `ready()`, and a timer it sets after the skip would never fire under the installed clock.
 */
const firstCheckOn = async (context: BrowserContext, page: Page): Promise<void> => {
  await until(() => page.evaluate(() => (window as unknown as { states: SenderState[] }).states.some((x) => x.leader)), 'the page to become the sender');
  await context.clock.fastForward(5_100);
};
const firstCheck = (s: Setup) => firstCheckOn(s.context, s.page);

/** Past the first regular pass, logs an error in the sending page; its running session's id. */
const errorAfterFirstPass = async (s: Setup): Promise<string> => {
  await firstCheck(s);
  await until(() => stored(s.sessions[0]) === 1, 'the first regular pass');
  return s.page.evaluate(async () => {
    W().Ferry.log.error('Pay', 'card declined');
    return W().Ferry.getSessionId()!;
  });
};

test('429 with Retry-After in seconds: no request before the deadline, even on send-now; then it goes', async () => {
  const s = await setup((route, n) => (n === 1 ? json(route, 429, { error: 'too-many-requests', detail: 'slow down' }, { 'Retry-After': '120' }) : undefined));
  await firstCheck(s);
  await until(async () => (await s.states()).some((x) => x.phase === 'waiting'), 'the sender to wait');
  const waiting = (await s.states()).find((x) => x.phase === 'waiting')!;
  const delay = waiting.nextCheckAt! - waiting.at;
  assert.ok(delay >= 119_000 && delay <= 120_500, `next check in ${delay} ms`);
  for (let i = 0; i < 3; i++) await s.page.evaluate(() => W().Ferry.sendNow());
  await s.context.clock.fastForward(60_000);
  await s.page.evaluate(() => W().Ferry.flush());
  assert.deepEqual(s.seen, ['POST /api/v1/sessions/summaries'], 'nothing asked before Retry-After');
  await s.context.clock.fastForward(61_000);
  await until(() => stored(s.sessions[0]) === 1, 'the session sent after the deadline');
  await s.context.close();
});

test('Retry-After as a date, missing, or absurdly large (capped at 30 minutes)', async () => {
  // The page clock runs 5 s ahead of the server's once the first check is skipped to.
  const cases: [string, () => string | undefined, number, number][] = [
    ['date', () => new Date(Date.now() + 90_000).toUTCString(), 80_000, 91_000],
    ['missing', () => undefined, 2_500, 5_000],
    ['absurd', () => '999999999', 29 * 60_000, 30 * 60_000 + 500],
  ];
  for (const [name, at, min, max] of cases) {
    const s = await setup((route, n) => {
      const value = at();
      return n === 1 ? json(route, 429, { error: 'too-many-requests', detail: name }, value ? { 'Retry-After': value } : {}) : undefined;
    });
    await firstCheck(s);
    const waiting = await until(async () => (await s.states()).find((x) => x.phase === 'waiting'), `${name}: the sender to wait`);
    const delay = waiting.nextCheckAt! - waiting.at;
    assert.ok(delay >= min - 1000 && delay <= max, `${name}: next check in ${delay} ms, expected ${min}–${max}`);
    await s.context.close();
  }
});

test('500 three times then 200: backs off, retries, delivers once, loses nothing', async () => {
  const s = await setup((route, n) => (n <= 3 ? json(route, 500, { error: 'internal', detail: 'boom' }) : undefined));
  await firstCheck(s);
  for (let i = 1; i <= 3; i++) {
    await until(async () => (await s.states()).filter((x) => x.phase === 'waiting').length >= i, `failure ${i}`);
    const st = (await s.states()).filter((x) => x.phase === 'waiting')[i - 1];
    assert.equal(st.failures, i);
    await s.context.clock.fastForward(st.nextCheckAt! - (await s.page.evaluate(() => Date.now())) + 100);
  }
  await until(() => stored(s.sessions[0]) === 1, 'delivery after the fourth try');
  assert.equal(s.seen.filter((x) => x.includes('summaries')).length, 4);
  assert.equal(stored(s.sessions[0]), 1);
  await s.context.close();
});

test('a connection reset mid-upload is retried and resumes; the session arrives once', async () => {
  let resets = 0;
  const s = await setup((route) => (route.request().method() === 'PATCH' && resets++ === 0 ? route.abort('connectionreset') : undefined));
  await firstCheck(s);
  await until(async () => (await s.states()).some((x) => x.phase === 'offline'), 'the reset seen as a network failure');
  const st = (await s.states()).find((x) => x.phase === 'offline')!;
  await s.context.clock.fastForward(st.nextCheckAt! - (await s.page.evaluate(() => Date.now())) + 100);
  await until(() => stored(s.sessions[0]) === 1, 'delivery after the reset');
  // The collector logs before its reply reaches the agent, which marks the session sent on the reply.
  await until(async () => (await readDb(s.page, 'demo')).sessions.find((x) => x.id === s.sessions[0])?.detailState === 'sent', 'the session marked sent');
  assert.equal(stored(s.sessions[0]), 1);
  await s.context.close();
});

test('a 400 for one session parks it with the reason while the rest of the queue moves; no loop', async () => {
  let refused = '';
  const s = await setup(
    (route) => {
      const r = route.request();
      if (r.method() !== 'POST' || !r.url().endsWith('/api/v1/uploads')) return undefined;
      const meta = r.headers()['upload-metadata'] ?? '';
      const sid = Buffer.from(/sessionId ([^,]+)/.exec(meta)?.[1] ?? '', 'base64').toString();
      if (refused === '' || refused === sid) {
        refused = sid;
        return json(route, 400, { error: 'invalid-field', detail: 'Upload-Metadata: test refusal' });
      }
      return undefined;
    },
    { sessions: 2 },
  );
  await firstCheck(s);
  const other = s.sessions.find((x) => x !== refused);
  await until(() => refused !== '' && other !== undefined && stored(s.sessions.find((x) => x !== refused)!) === 1, 'the other session delivered');
  const st = await until(async () => (await s.states()).find((x) => x.parked.length > 0), 'the parked session in state');
  assert.equal(st.parked[0].id, refused);
  assert.match(st.parked[0].reason, /answered 400: invalid-field — Upload-Metadata: test refusal/);
  const tries = s.seen.length;
  await s.context.clock.fastForward(5 * 60_000);
  await s.page.evaluate(() => W().Ferry.sendNow());
  await s.page.evaluate(() => W().Ferry.flush());
  assert.equal(s.seen.filter((x) => x === 'POST /api/v1/uploads').length, 2, 'the refused session is not retried');
  assert.ok(s.seen.length - tries <= 1, 'at most a summaries check after that, no loop');
  const db = await readDb(s.page, 'demo');
  assert.match(String(db.sessions.find((x) => x.id === refused)?.parked), /invalid-field/);
  assert.ok(
    db.sessions.some((x) => x.id === refused),
    'the refused session is kept locally',
  );
  await s.context.close();
});

test('not-wanted: the summary is recorded, no upload, and purge removes it locally', async () => {
  const s = await setup(() => undefined, { product: 'quiet', key: KEYS.none, purge: true, sessions: 2 });
  await firstCheck(s);
  await until(async () => (await readDb(s.page, 'quiet')).sessions.length === 1, 'declined sessions purged (only the running one left)');
  assert.deepEqual(s.seen, ['POST /api/v1/sessions/summaries']);
  await s.context.close();
});

test('error send throttle: two errors within minimumNotificationDelayMs give one send', async () => {
  const s = await setup(() => undefined);
  await firstCheck(s);
  await until(() => stored(s.sessions[0]) === 1, 'the first regular pass');
  const passes = async () => (await s.states()).filter((x) => x.phase === 'summaries').length;
  const before = await passes();
  const alerts = await s.page.evaluate(() => {
    const seen: boolean[] = [];
    W().Ferry.on('alert', (a) => seen.push(a.sendSession));
    W().Ferry.log.error('Pay', 'first failure');
    return new Promise<boolean[]>((resolve) => setTimeout(() => resolve(seen), 10));
  });
  assert.deepEqual(alerts, [true], 'the alert defaults sendSession to true (autoSendOnError)');
  await until(async () => (await passes()) === before + 1, 'a send for the first error');
  // 10 s later: well inside the 5-minute delay and before the next regular check (60 s).
  await s.context.clock.fastForward(10_000);
  await s.page.evaluate(() => W().Ferry.log.error('Pay', 'second failure, ten seconds later'));
  await s.page.evaluate(() => W().Ferry.flush());
  await s.context.clock.fastForward(1_000);
  await s.page.evaluate(() => W().Ferry.flush());
  const afterSecond = await passes();
  assert.equal(afterSecond, before + 1, 'the second error did not cause another send');
  await s.context.clock.fastForward(5 * 60_000);
  await s.page.evaluate(() => W().Ferry.log.critical('Pay', 'after the delay'));
  await until(async () => (await passes()) > afterSecond, 'a send again once the delay has passed');
  await s.context.close();
});

test('an error sends the running session as it stands; once ended, the complete session replaces it at the collector', async () => {
  const s = await setup(() => undefined);
  await firstCheck(s);
  await until(() => stored(s.sessions[0]) === 1, 'the first regular pass');
  const live = await s.page.evaluate(async () => {
    for (let i = 0; i < 3; i++) W().Ferry.log.information('Cart', `step ${i}`);
    W().Ferry.log.error('Pay', 'card declined');
    return W().Ferry.getSessionId()!;
  });
  await until(() => stored(live) === 1, 'the running session sent on the error');
  const partial = await e2e.collector.collector.store.getSession(live);
  assert.equal(partial?.summary.status, 'running');
  assert.equal(partial?.detail?.messageCount, 4);
  assert.equal(partial?.detail?.counts.error, 1);

  await s.page.evaluate(async () => {
    W().Ferry.log.information('Cart', 'retried');
    W().Ferry.log.warning('Cart', 'slow');
    await W().Ferry.flush();
  });
  await s.page.close(); // pagehide: the session ends
  const next = await openSender(s.context, { product: 'demo', key: KEYS.all, purge: false, consentRequired: false });
  await firstCheckOn(s.context, next);
  await until(() => stored(live) === 2, 'the ended session sent again, complete');
  const complete = await e2e.collector.collector.store.getSession(live);
  assert.equal(complete?.summary.status, 'ended');
  assert.equal(complete?.detail?.messageCount, 6);
  assert.equal(complete?.detail?.counts.warning, 1);
  assert.equal(
    e2e.collector.logs
      .filter((r) => r.msg === 'detail stored' && r.session === live)
      .map((r) => r.result)
      .join(),
    'new,replaced',
  );
  await next.evaluate(() => W().Ferry.flush());
  await s.context.close();
});

test('with purgeSentSessions, a running session sent on an error stays stored until it is sent whole', async () => {
  const s = await setup(() => undefined, { purge: true });
  const live = await errorAfterFirstPass(s);
  await until(() => stored(live) === 1, 'the running session sent on the error');
  await until(async () => (await s.states()).at(-1)?.phase === 'idle', 'the pass to end');
  await s.page.evaluate(async () => {
    W().Ferry.log.information('Cart', 'retried');
    await W().Ferry.flush();
  });
  const kept = await readDb(s.page, 'demo');
  assert.deepEqual(
    kept.messages.filter((m) => m.sessionId === live).map((m) => m.text),
    ['card declined', 'retried'],
    'every message of the running session is still stored',
  );
  await s.page.close();
  const next = await openSender(s.context, { product: 'demo', key: KEYS.all, purge: true, consentRequired: false });
  await firstCheckOn(s.context, next);
  await until(() => stored(live) === 2, 'the ended session sent whole');
  assert.equal((await e2e.collector.collector.store.getSession(live))?.detail?.messageCount, 2);
  await until(async () => !(await readDb(next, 'demo')).sessions.some((x) => x.id === live), 'purged once sent whole');
  await s.context.close();
});

test('a tab that closes before its running-session upload is confirmed: the next sender uploads the whole session, not the partial blob', async () => {
  // The second PATCH (the running session's, sent on the error) reaches the collector, which
  // stores it, but its answer never reaches the page, nor does any retry's until the tab is
  // gone: the outbox keeps the partial blob and its URL.
  let patches = 0;
  let cutOff = false;
  const s = await setup((route) => {
    const method = route.request().method();
    if (cutOff && method !== 'POST') return route.abort('connectionreset');
    if (method !== 'PATCH' || ++patches !== 2) return undefined;
    cutOff = true;
    return route.fetch().then(() => route.abort('connectionreset'));
  });
  const live = await errorAfterFirstPass(s);
  await until(() => stored(live) === 1, 'the running session stored by the collector');
  const outboxUrl = (id: string) =>
    s.page.evaluate(
      (id) =>
        new Promise<string | undefined>((resolve, reject) => {
          const open = indexedDB.open('ferry:demo');
          open.onerror = () => reject(open.error);
          open.onsuccess = () => {
            const get = open.result.transaction('outbox').objectStore('outbox').get(id);
            get.onsuccess = () => resolve((get.result as { uploadUrl?: string } | undefined)?.uploadUrl);
            get.onerror = () => reject(get.error);
          };
        }),
      id,
    );
  await until(() => outboxUrl(live), 'the unconfirmed upload left in the outbox');
  await s.page.evaluate(async () => {
    for (let i = 0; i < 5; i++) W().Ferry.log.information('Cart', `after ${i}`);
    await W().Ferry.flush();
  });
  await s.page.close();
  cutOff = false;
  const next = await openSender(s.context, { product: 'demo', key: KEYS.all, purge: false, consentRequired: false });
  await firstCheckOn(s.context, next);
  await until(() => stored(live) === 2, 'the complete session stored');
  const complete = await e2e.collector.collector.store.getSession(live);
  assert.equal(complete?.detail?.messageCount, 6, 'the error and the five messages after it');
  const local = await until(
    async () => (await readDb(next, 'demo')).sessions.find((x) => x.id === live && x.detailState === 'sent'),
    'the session marked sent',
  );
  assert.equal(local.lastSeq, complete?.detail?.lastSeq, 'marked sent only with every message at the collector');
  await s.context.close();
});

test('consent: while required and not granted nothing is sent; granting it sends', async () => {
  const s = await setup(() => undefined, { consentRequired: true });
  await firstCheck(s);
  await until(async () => (await s.states()).some((x) => x.phase === 'no-consent'), 'the sender to report no consent');
  await s.context.clock.fastForward(3 * 60_000);
  await s.page.evaluate(() => W().Ferry.sendNow());
  await s.page.evaluate(() => W().Ferry.flush());
  assert.deepEqual(s.seen, [], 'not a single request without consent');
  await s.page.evaluate(() => W().Ferry.setConsent(true));
  await until(() => stored(s.sessions[0]) === 1, 'the session sent once consent is given');
  await s.context.close();
});
