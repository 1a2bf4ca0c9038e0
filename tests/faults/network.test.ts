// Faults on the link between the sending side and the collector: the real core send pass (over
// fake-indexeddb, the one fake) sends through the fault proxy to a real collector on 127.0.0.1.
// Each round seeds sessions of several upload chunks, aims faults at requests, runs passes until
// every session is confirmed, and compares the collector's store with what was seeded.
import '../support/indexeddb.js';
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startTestCollector, type TestCollector } from '../unit/server/harness.js';
import { readDelivered } from './support/collected.js';
import { type FaultProxy, type RequestFault, startProxy } from './support/proxy.js';
import { assertExact, type RoundOptions, sendRound } from './support/rounds.js';
import { type Rng, record, reportAtEnd, rng, SEED } from './support/tally.js';

reportAtEnd(import.meta.filename);

let t: TestCollector;
let proxy: FaultProxy;
before(async () => {
  t = await startTestCollector({ listen: true });
  proxy = await startProxy({ port: Number(new URL(t.collector.url).port) });
});
after(async () => {
  await proxy?.close();
  await t?.close();
});

const round = (r: Rng, plan: FaultProxy['plan'], o: Pick<RoundOptions, 'sessions' | 'timeoutMs' | 'onPass'> = {}) => {
  proxy.plan = plan;
  return sendRound(r, { proxy, read: (ids) => readDelivered(t.collector.store, ids, t.logs), ...o });
};

/**
 * The first attempt of every step is faulted, its retry goes through: each summaries request,
 * creation, HEAD and chunk (a PATCH at a given offset; a cut that left part of a chunk stored
 * makes the next PATCH a new step) is hit once, and every round still ends.
 */
const everyStepOnce = (fault: (req: Parameters<FaultProxy['plan']>[0]) => RequestFault) => {
  const hit = new Set<string>();
  return (req: Parameters<FaultProxy['plan']>[0]): RequestFault => {
    const key = `${req.method} ${req.path} ${req.headers['upload-offset'] ?? ''}`;
    if (hit.has(key)) return { type: 'pass' };
    hit.add(key);
    return fault(req);
  };
};

test('connection cut at a random byte of every request (summaries, creation, each chunk, HEAD): nothing lost, nothing twice', async () => {
  const r = rng(SEED ^ 0x1001);
  for (let i = 0; i < 8; i++) {
    const x = await round(
      r,
      everyStepOnce((req) => ({ type: 'cut-request', at: r.int(1, req.bytes - 1) })),
    );
    assertExact('cut in the request', x);
    record('cut mid-request', x.faults, x.outcome);
  }
});

test('connection cut at a random byte of every reply (the collector acted, the client never heard)', async () => {
  const r = rng(SEED ^ 0x1002);
  for (let i = 0; i < 12; i++) {
    // Replies are a few hundred bytes: a cut anywhere in the status line, headers or body.
    const x = await round(
      r,
      everyStepOnce(() => ({ type: 'cut-reply', at: r.int(0, 300) })),
    );
    assertExact('cut in the reply', x);
    record('cut mid-reply', x.faults, x.outcome);
  }
});

test('reset (RST) as a request arrives on a reused keep-alive connection', async () => {
  const r = rng(SEED ^ 0x1003);
  for (let i = 0; i < 8; i++) {
    const x = await round(r, (req) => (req.onConnection > 0 && r.next() < 0.6 ? { type: 'reset' } : { type: 'pass' }));
    assertExact('keep-alive reset', x);
    record('reset on keep-alive reuse', x.faults, x.outcome);
  }
});

test('a slow link: replies held for seconds', async () => {
  const r = rng(SEED ^ 0x1004);
  for (let i = 0; i < 2; i++) {
    const x = await round(r, (req) => (req.index % 3 === 0 ? { type: 'slow', ms: r.int(1000, 2500) } : { type: 'pass' }), { sessions: 1 });
    assertExact('slow link', x);
    record('slow link (1-2.5 s replies)', x.faults, x.outcome);
  }
});

test('a black hole (accepts, never answers): the request times out, the next pass delivers', async () => {
  const r = rng(SEED ^ 0x1005);
  for (let i = 0; i < 3; i++) {
    let holes = r.int(1, 2);
    const x = await round(r, () => (holes-- > 0 ? { type: 'black-hole' } : { type: 'pass' }), { sessions: 1, timeoutMs: 1500 });
    assertExact('black hole', x);
    record('black hole', x.faults, x.outcome);
  }
});

test('the collector answering 429 (every Retry-After form) or 503: each pass stops with the wait it was told, then delivers', async () => {
  const r = rng(SEED ^ 0x1006);
  const forms: [string, () => Record<string, string>, (ms: number | undefined) => boolean][] = [
    ['429, Retry-After in seconds', () => ({ 'retry-after': '120' }), (ms) => ms === 120_000],
    [
      '429, Retry-After as a date',
      () => ({ 'retry-after': new Date(Date.now() + 90_000).toUTCString() }),
      (ms) => ms !== undefined && ms > 80_000 && ms <= 91_000,
    ],
    ['429, no Retry-After', () => ({}), (ms) => ms === undefined],
    ['429, Retry-After absurdly large (capped)', () => ({ 'retry-after': '999999999' }), (ms) => ms !== undefined && ms <= 30 * 60_000],
    ['503, Retry-After in seconds', () => ({ 'retry-after': '30' }), (ms) => ms === 30_000],
    ['503, no Retry-After', () => ({}), (ms) => ms === undefined],
  ];
  for (let i = 0; i < 12; i++) {
    const [name, headers, told] = r.pick(forms);
    const status = name.startsWith('429') ? 429 : 503;
    const waits: (number | undefined)[] = [];
    let answered = 0;
    let answeredIndex = -1;
    // A pass that was told to wait asks nothing more: the answered request is its last (the
    // sender's schedule, no request before the deadline, is asserted in the browser in clock.test.ts).
    const after: number[] = [];
    const x = await round(
      r,
      everyStepOnce((req) => {
        answered++;
        answeredIndex = req.index;
        return { type: 'answer', status, headers: headers() };
      }),
      {
        sessions: 2,
        onPass: (p) => {
          if (!p.failure) return;
          waits.push(p.failure.retryAfterMs);
          after.push(proxy.log.filter((q) => q.index > answeredIndex).length);
        },
      },
    );
    assertExact(name, x);
    assert.equal(waits.length, answered, `${name}: every answer stopped its pass as retryable`);
    assert.ok(waits.every(told), `${name}: the wait the pass reports (${waits.join(', ')})`);
    assert.ok(
      after.every((n) => n === 0),
      `${name}: no request after the answer in its pass (${after.join(', ')})`,
    );
    record('429 / 503 with Retry-After forms', x.faults, x.outcome);
  }
});
