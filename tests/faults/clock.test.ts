// The browser's clock moved a day backwards or forwards, in real Chromium. Playwright's page clock
// (context.clock, playwright-core 1.65) is installed in every page of the context before it loads:
// `setSystemTime` moves Date (the wall clock) and nothing else — performance.now() and timers keep
// their monotonic ticks — which is what an operating-system clock change does to a page, and
// `fastForward` skips a Retry-After or throttle wait without waiting for it. (An addInitScript that
// offsets Date.now would model the jump alike but could not skip the waits.) The agent's dedicated
// worker keeps the real clock; it stamps only the outbox. Each round's faults are its clock jumps,
// plus the 429 or 503 answers the fault proxy gave in the collector's place.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { BrowserContext, Page } from 'playwright-core';
import type { SenderState } from '../../src/shared/channel.js';
import { PATHS } from '../../src/shared/protocol.js';
import { openAgentPage } from '../support/agentPage.js';
import { until } from '../support/browser.js';
import { KEYS } from '../unit/server/harness.js';
import { type Delivered, readDelivered } from './support/collected.js';
import type { RequestFault } from './support/proxy.js';
import { useFaultRig } from './support/rig.js';
import { compare, emptyOutcome, type Rng, record, reportAtEnd, rng, SEED } from './support/tally.js';

reportAtEnd(import.meta.filename);

const PRODUCT = 'faults-clock';
const DAY = 86_400_000;
const rig = useFaultRig(PRODUCT);

/** A `state` event with the page's wall time (`at`) and monotonic time (`mono`) it was published at. */
type Stamped = SenderState & { at: number; mono: number };
/** A request the page's fetch made, with its monotonic time. */
interface PageRequest {
  method: string;
  url: string;
  mono: number;
}
interface AgentOptions {
  send: boolean;
  maxLocalAgeDays?: number;
  minimumNotificationDelayMs?: number;
}

/** Starts the agent in `page` (sending through the fault proxy when `send`), recording its `state` events with the page's time, and counting its alerts. */
const init = (page: Page, application: string, o: AgentOptions): Promise<string> =>
  page.evaluate(
    async ([url, key, product, application, o]) => {
      const w = window as unknown as { states: unknown[]; alerts: number };
      w.states = [];
      w.alerts = 0;
      W().Ferry.on('state', (s) => w.states.push({ ...s, at: Date.now(), mono: performance.now() }));
      W().Ferry.on('alert', () => w.alerts++);
      W().Ferry.init({
        product,
        application,
        version: '1',
        storage: o.maxLocalAgeDays ? { maxLocalAgeDays: o.maxLocalAgeDays } : {},
        ...(o.send
          ? {
              server: {
                url,
                ingestKey: key,
                autoSendSessions: true,
                ...(o.minimumNotificationDelayMs ? { minimumNotificationDelayMs: o.minimumNotificationDelayMs } : {}),
              },
            }
          : {}),
      });
      await W().Ferry.ready();
      return W().Ferry.getSessionId()!;
    },
    [rig.proxy.url, KEYS.all, PRODUCT, application, o] as const,
  );

const states = (page: Page): Promise<Stamped[]> => page.evaluate(() => (window as unknown as { states: Stamped[] }).states);
const pageNow = (page: Page): Promise<number> => page.evaluate(() => Date.now());

/** Moves every page's wall clock of the context by `days` (timers and performance.now() are not moved). */
const jump = async (context: BrowserContext, page: Page, days: number): Promise<void> => {
  await context.clock.setSystemTime((await pageNow(page)) + days * DAY);
};

/** Skips to the sender's first check once `page` holds the sender lock (a timer set after the skip would wait in real time). */
const firstCheck = async (context: BrowserContext, page: Page): Promise<void> => {
  await until(async () => (await states(page)).some((s) => s.leader), 'the page to become the sender');
  await context.clock.fastForward(5_100);
};

/** Logs `n` information and warning messages (seqs in order), then waits for them to be stored. */
const logSome = (page: Page, n: number, tag: string): Promise<void> =>
  page.evaluate(
    async ([n, tag]) => {
      for (let i = 0; i < n; i++) {
        if (i % 7 === 3) W().Ferry.log.warning('Clock', `${tag} ${i}`, { tag, i });
        else W().Ferry.log.information('Clock', `${tag} ${i}`, { tag, i });
      }
      await W().Ferry.flush();
    },
    [n, tag] as const,
  );

/** The session's stored detail at the collector, once it has one for the ended session. */
const deliveredEnded = async (id: string, what: string): Promise<Delivered> => {
  await until(
    async () => {
      const s = await rig.t.collector.store.getSession(id);
      return s?.detail && s.summary.status === 'ended';
    },
    `${what} at the collector (seed ${SEED})`,
    30_000,
    50,
  );
  const d = (await readDelivered(rig.t.collector.store, [id], rig.t.logs)).get(id);
  assert.ok(d, `${what}: its detail is readable`);
  return d;
};

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i + 1);

/** ±1 day signs, `n` of them, with at least one of each. */
const signs = (r: Rng, n: number): number[] => {
  const s: number[] = Array.from({ length: n }, () => (r.next() < 0.5 ? -1 : 1));
  if (s.every((x) => x === s[0])) s[r.int(0, n - 1)] = -(s[0] ?? 1);
  return s;
};

test('the clock jumps a day back and forth while a tab logs, then a day forward before the next start: order kept, nothing lost, age pruning only past the limit', async () => {
  const r = rng(SEED ^ 0x5001);
  for (let round = 0; round < 4; round++) {
    const context = await rig.browser.newContext();
    await context.clock.install();
    rig.proxy.plan = () => ({ type: 'pass' });
    // Round 0 always has the limit at 1 day, and crosses it (below).
    const maxLocalAgeDays = round === 0 ? 1 : r.pick([1, 2, 7]);
    const recorder = await openAgentPage(context, rig.server.url);
    const id = await init(recorder, 'editor', { send: false, maxLocalAgeDays });
    const startedAt = (await recorder.evaluate(() => W().Ferry.getSessionSummary()!.startedAt)) as number;
    // Two opposite moves in round 0 leave the next start one day on: past its 1-day limit.
    const moves = signs(r, round === 0 ? 2 : r.int(2, 3));
    let n = 0;
    for (let p = 0; p <= moves.length; p++) {
      const k = r.int(50, 400);
      await logSome(recorder, k, `phase ${p}`);
      n += k;
      const move = moves[p];
      if (move !== undefined) await jump(context, recorder, move);
    }
    const dropped = await recorder.evaluate(() => W().Ferry.getSessionSummary()!.dropped);
    assert.deepEqual(dropped, { beforeLog: 0, overflow: 0, pruned: 0, prunedSessions: 0, prunedMessages: 0 }, 'the recording tab lost nothing');
    await recorder.close();
    // A day forward before the next page starts: its start-up pruning measures age on this clock.
    const sender = await openAgentPage(context, rig.server.url);
    await jump(context, sender, 1);
    const offsetDays = moves.reduce((a, b) => a + b, 0) + 1;
    const senderId = await init(sender, 'editor', { send: true, maxLocalAgeDays });
    // The age rule is "started more than maxLocalAgeDays ago" on the browser's clock, which is
    // all a new page has: past the limit the session goes, and the drop is counted and sent.
    const agePruned = offsetDays >= maxLocalAgeDays;
    const clockAge = (await pageNow(sender)) - startedAt;
    assert.equal(clockAge > maxLocalAgeDays * DAY, agePruned, `age on the clock ${clockAge} ms against ${maxLocalAgeDays} days`);
    await firstCheck(context, sender);
    const o = emptyOutcome();
    if (agePruned) {
      const mine = await sender.evaluate(() => W().Ferry.getSessionSummary()!.dropped);
      assert.deepEqual(
        { sessions: mine.prunedSessions, messages: mine.prunedMessages },
        { sessions: 1, messages: n },
        'the session pruned by age is counted on the session that pruned it, every message',
      );
      // That count reaches the collector with the pruning session, sent once it has ended.
      await sender.close();
      const next = await openAgentPage(context, rig.server.url);
      await init(next, 'editor', { send: true, maxLocalAgeDays });
      await firstCheck(context, next);
      await deliveredEnded(senderId, 'the session that pruned');
      const told = (await rig.t.collector.store.getSession(senderId))?.summary.dropped;
      assert.deepEqual({ sessions: told?.prunedSessions, messages: told?.prunedMessages }, { sessions: 1, messages: n }, 'the count reached the collector');
      assert.equal(await rig.t.collector.store.getSession(id), undefined, 'the pruned session was never sent');
      // The rule removed the session, so the collector is not expected to hold it; its messages
      // were counted, so none is lost (lost = neither delivered nor counted, as the quota row).
      o.messages = { expected: n, delivered: 0, lost: 0, duplicated: 0 };
    } else {
      const d = await deliveredEnded(id, 'the session logged across the jumps');
      assert.deepEqual(d.seqs, range(n), 'every message once, in seq order');
      assert.equal(d.stores, 1, 'stored once');
      const stored = await rig.t.collector.store.getSession(id);
      assert.deepEqual(stored?.summary.dropped, dropped, 'its loss accounting (none) reached the collector');
      const mine = await sender.evaluate(() => W().Ferry.getSessionSummary()!.dropped);
      assert.equal(mine.prunedSessions, 0, `not pruned by age (${offsetDays} days on the clock, limit ${maxLocalAgeDays})`);
      Object.assign(o, compare(new Map([[id, n]]), new Map([[id, d]])));
    }
    record(agePruned ? 'clock +1 day past maxLocalAgeDays: pruned, counted' : 'clock ±1 day while logging', moves.length + 1, o);
    await context.close();
  }
});

/**
 * An ended session of `n` messages, then a sending page whose first summaries request the proxy
 * answers with `fault`; resolves once the sender waits, with the wait (ms) it computed.
 */
const waitingSender = async (r: Rng, fault: RequestFault, o: { skewDays?: number } = {}) => {
  const context = await rig.browser.newContext();
  await context.clock.install();
  // Every request the page's fetch makes, stamped on the page's monotonic clock (which the
  // installed clock also drives): when each was made, whatever the proxy's timing.
  await context.addInitScript(() => {
    const w = window as unknown as { requests: PageRequest[] };
    w.requests = [];
    const f = window.fetch.bind(window);
    window.fetch = (input, init) => {
      w.requests.push({ method: init?.method ?? 'GET', url: input instanceof Request ? input.url : String(input), mono: performance.now() });
      return f(input, init);
    };
  });
  rig.proxy.plan = () => ({ type: 'pass' });
  const recorder = await openAgentPage(context, rig.server.url);
  const id = await init(recorder, 'viewer', { send: false });
  const n = r.int(20, 200);
  await logSome(recorder, n, 'before');
  await recorder.close();
  // The first summaries POST (its CORS preflight goes through): the index of the request answered.
  let answered = -1;
  rig.proxy.plan = (req) => {
    if (answered >= 0 || req.method !== 'POST' || req.path !== PATHS.summaries) return { type: 'pass' };
    answered = req.index;
    return fault;
  };
  const sender = await openAgentPage(context, rig.server.url);
  if (o.skewDays) await jump(context, sender, o.skewDays);
  await init(sender, 'viewer', { send: true });
  await firstCheck(context, sender);
  const waiting = await until(async () => (await states(sender)).find((s) => s.phase === 'waiting'), `the sender to wait (seed ${SEED})`);
  assert.ok(answered >= 0, 'the first summaries request was answered by the proxy');
  // The deadline as the page's clock (not yet moved) stands now.
  const remaining = waiting.nextCheckAt! - (await pageNow(sender));
  const wait = waiting.nextCheckAt! - waiting.at;
  return { context, sender, id, n, answered, wait, remaining, deadline: waiting.mono + wait };
};

/**
 * No request before the deadline, even on send-now; then, past it, the session is delivered. Two
 * witnesses: the page's own fetch log on its monotonic clock (exact), and the proxy's log (which
 * saw nothing up to 3 s before the deadline: the page clock also runs in real time meanwhile, so
 * that is checked only for waits long enough to leave room).
 */
const noRequestUntilDeadline = async (s: Awaited<ReturnType<typeof waitingSender>>, what: string): Promise<Delivered> => {
  const { context, sender } = s;
  for (let i = 0; i < 2; i++) await sender.evaluate(() => W().Ferry.sendNow());
  let skipped = 0;
  if (s.remaining > 8_000) {
    skipped = Math.floor(s.remaining - 3_000);
    await context.clock.fastForward(skipped);
    await sender.evaluate(() => W().Ferry.sendNow());
    await sender.evaluate(() => W().Ferry.flush());
    assert.deepEqual(
      rig.proxy.log.filter((x) => x.index > s.answered).map((x) => `${x.method} ${x.path}`),
      [],
      `${what}: the proxy saw no request in the ${skipped} ms after the answer (deadline ${Math.round(s.remaining)} ms)`,
    );
  }
  await context.clock.fastForward(Math.max(1, Math.ceil(s.remaining - skipped + 1_500)));
  const d = await deliveredEnded(s.id, `${what}: the session after the deadline`);
  assert.deepEqual(d.seqs, range(s.n), `${what}: every message once, in order`);
  const made = await sender.evaluate(() => (window as unknown as { requests: PageRequest[] }).requests);
  const first = made.findIndex((q) => q.method === 'POST' && q.url.endsWith(PATHS.summaries));
  const later = made.slice(first + 1);
  assert.ok(later.length > 0, `${what}: requests after the deadline`);
  const early = later.filter((q) => q.mono < s.deadline - 1);
  assert.deepEqual(early, [], `${what}: no request before the deadline on the page's monotonic clock (${Math.round(s.deadline)})`);
  return d;
};

test('a 429 wait, then the clock a day back or forward: no request before the deadline (not even on send-now), and the retry goes at it, not a day later', async () => {
  const r = rng(SEED ^ 0x5002);
  for (let round = 0; round < 4; round++) {
    const days = round % 2 === 0 ? -1 : 1;
    const seconds = r.int(30, 600);
    const s = await waitingSender(r, { type: 'answer', status: 429, headers: { 'retry-after': String(seconds) } });
    assert.ok(Math.abs(s.wait - seconds * 1000) < 1000, `the wait told (${s.wait} ms for ${seconds} s)`);
    await jump(s.context, s.sender, days);
    const d = await noRequestUntilDeadline(s, `429 then ${days > 0 ? '+' : ''}${days} day`);
    record('clock ±1 day during a 429 wait', 2, compare(new Map([[s.id, s.n]]), new Map([[s.id, d]])));
    await s.context.close();
  }
});

test('the collector answering 429 (every Retry-After form) or 503 to the browser sender: no request before the deadline, then delivery', async () => {
  const r = rng(SEED ^ 0x5003);
  // The date form is written on the proxy's clock; the page's runs a few seconds ahead once the
  // first check is skipped to, so its wait is a little shorter than 90 s.
  const forms: [string, number, () => Record<string, string>, (ms: number) => boolean][] = [
    ['429, seconds', 429, () => ({ 'retry-after': String(r.int(20, 900)) }), (ms) => ms > 19_000],
    ['429, HTTP date', 429, () => ({ 'retry-after': new Date(Date.now() + 90_000).toUTCString() }), (ms) => ms > 75_000 && ms <= 91_000],
    ['429, none', 429, () => ({}), (ms) => ms >= 2_400 && ms <= 5_100],
    ['429, absurdly large (capped at 30 min)', 429, () => ({ 'retry-after': '999999999' }), (ms) => ms > 29 * 60_000 && ms <= 30 * 60_000 + 500],
    ['503, seconds', 503, () => ({ 'retry-after': String(r.int(20, 900)) }), (ms) => ms > 19_000],
    ['503, none', 503, () => ({}), (ms) => ms >= 2_400 && ms <= 5_100],
  ];
  for (let round = 0; round < forms.length; round++) {
    const [name, status, headers, told] = forms[round]!;
    const s = await waitingSender(r, { type: 'answer', status, headers: headers() });
    assert.ok(told(s.wait), `${name}: the wait (${s.wait} ms)`);
    const d = await noRequestUntilDeadline(s, name);
    record('429 / 503 deadline (browser sender, page clock)', 1, compare(new Map([[s.id, s.n]]), new Map([[s.id, d]])));
    await s.context.close();
  }
});

test("a Retry-After date, the page's clock a day back or forward: read against the server's Date header, the wait is what the server said", async () => {
  const r = rng(SEED ^ 0x5005);
  for (const days of signs(r, 2)) {
    // Written on the proxy's clock, as a collector writes both headers on its own.
    const headers = { 'retry-after': new Date(Date.now() + 90_000).toUTCString(), date: new Date().toUTCString() };
    const s = await waitingSender(r, { type: 'answer', status: 429, headers }, { skewDays: days });
    assert.ok(s.wait > 75_000 && s.wait <= 91_000, `clock ${days > 0 ? '+' : ''}${days} day: the wait (${s.wait} ms) is the server's 90 s`);
    const d = await noRequestUntilDeadline(s, `Retry-After date, clock ${days > 0 ? '+' : ''}${days} day`);
    record('Retry-After date on a clock a day off', 2, compare(new Map([[s.id, s.n]]), new Map([[s.id, d]])));
    await s.context.close();
  }
});

test('error sends throttled by minimumNotificationDelayMs, the clock a day back or forward: an error within the delay does not send, the next one past it does', async () => {
  const r = rng(SEED ^ 0x5004);
  for (let round = 0; round < 4; round++) {
    const days = round % 2 === 0 ? -1 : 1;
    const context = await rig.browser.newContext();
    await context.clock.install();
    rig.proxy.plan = () => ({ type: 'pass' });
    const page = await openAgentPage(context, rig.server.url);
    const delay = 60_000;
    const id = await init(page, 'editor', { send: true, minimumNotificationDelayMs: delay });
    await until(async () => (await states(page)).some((s) => s.leader), 'the page to become the sender');
    const atCollector = async (seq: number) => {
      const d = (await readDelivered(rig.t.collector.store, [id], rig.t.logs)).get(id);
      return d && Math.max(...d.seqs) >= seq ? d : undefined;
    };
    let n = 0;
    let alerts = 0;
    const burstAndError = async (tag: string) => {
      const k = r.int(10, 100);
      await logSome(page, k, tag);
      await page.evaluate((tag) => W().Ferry.log.error('Clock', `${tag}: error`), tag);
      n += k + 1;
      // The alert (which decides whether to send) fires in the next task: before the clock moves on.
      alerts++;
      await until(() => page.evaluate((want) => (window as unknown as { alerts: number }).alerts >= want, alerts), `the alert of ${tag}`);
      return n;
    };
    const first = await burstAndError('first');
    await until(() => atCollector(first), `the running session sent on its first error (seed ${SEED})`, 30_000, 50);
    const mark = rig.proxy.log.length;
    await jump(context, page, days);
    // Within the delay on the monotonic clock, whatever the wall clock says: no send.
    await burstAndError('within the delay');
    await context.clock.fastForward(delay + 1_000);
    const last = await burstAndError('past the delay');
    const d = await until(() => atCollector(last), `the running session sent again past the delay, the clock ${days} day (seed ${SEED})`, 30_000, 50);
    // Each error send posts the session's summary first: one since the first send, for the error past the delay.
    const posted = rig.proxy.log.slice(mark).filter((x) => x.method === 'POST' && x.path === PATHS.summaries).length;
    assert.equal(posted, 1, `one error send after the first: the one within the delay was held (clock ${days} day)`);
    assert.deepEqual(d.seqs, range(n), 'every message once, in order');
    // The running session sent twice as it stood: the second detail replaced the first, as it should.
    const news = rig.t.logs.filter((l) => l.msg === 'detail stored' && l.session === id && l.result === 'new').length;
    assert.equal(news, 1, 'one session at the collector');
    record('clock ±1 day during an error-send throttle', 1, compare(new Map([[id, n]]), new Map([[id, { seqs: d.seqs, stores: news }]])));
    await context.close();
  }
});
