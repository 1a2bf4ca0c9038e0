// The page sender in Node: a fake SenderHost, the in-memory LockManager, Node's BroadcastChannel,
// fake-indexeddb, and the real collector on 127.0.0.1. The sender's timers are real; each test
// waits on an event (a request, a published state) with a bound, never a fixed sleep.
import '../../../support/indexeddb.js';
// Before the sender (and its console monitor) loads, so the warnings it writes are recorded.
import '../../../support/console.js';
import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, describe, test } from 'node:test';
import { resolveOptions } from '../../../../src/agent/config/options.js';
import { type Sender, type SenderHost, startSender } from '../../../../src/agent/send/sender.js';
import { warnOnce } from '../../../../src/agent/tools/monitor.js';
import { createSchema } from '../../../../src/core/db/createSchema.js';
import { getDelivery, updateDelivery } from '../../../../src/core/db/delivery.js';
import { bundledMigrations } from '../../../../src/core/db/migrations.js';
import { type FerryDatabase, openProductDb } from '../../../../src/core/db/open.js';
import { CADENCE } from '../../../../src/core/send/backoff.js';
import { park } from '../../../../src/core/send/parked.js';
import { markCrashedSessions } from '../../../../src/core/session/crashed.js';
import type { SenderState } from '../../../../src/shared/channel.js';
import { liveLockName, senderLockName } from '../../../../src/shared/names.js';
import { PATHS } from '../../../../src/shared/protocol.js';
import { AGENT_VERSION } from '../../../../src/shared/version.js';
import { warnings } from '../../../support/console.js';
import { freshIndexedDB } from '../../../support/indexeddb.js';
import { FakeLocks } from '../../../support/locks.js';
import { compressor, type RecordingOptions, recordingFetch, seedSession } from '../../../support/sending.js';
import { KEYS, startTestCollector, type TestCollector } from '../../server/harness.js';

// The sender listens for the window's `online` event; Node has no window, so one stands in.
const windowEvents = new EventTarget();
Object.assign(globalThis, {
  addEventListener: windowEvents.addEventListener.bind(windowEvents),
  removeEventListener: windowEvents.removeEventListener.bind(windowEvents),
});

/**
 * Resolves with the first value that passes `test`: one already in `seen`, or the next that
 * `subscribe` hands to its callback; rejects after `ms`.
 */
const first = <T>(what: string, ms: number, seen: readonly T[], subscribe: (cb: (v: T) => void) => void, test: (v: T) => boolean): Promise<T> =>
  new Promise<T>((resolve, reject) => {
    const already = seen.find(test);
    if (already !== undefined) return resolve(already);
    const timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
    subscribe((v) => {
      if (!test(v)) return;
      clearTimeout(timer);
      resolve(v);
    });
  });

/** Rejects when `p` has not settled in `ms`. */
const within = <T>(p: Promise<T>, ms: number, what: string): Promise<T> =>
  first<T>(
    what,
    ms,
    [],
    (cb) => void p.then(cb),
    () => true,
  );

describe('startSender', () => {
  let t: TestCollector;
  let db: FerryDatabase;
  const senders: Sender[] = [];
  before(async () => {
    t = await startTestCollector({ listen: true });
  });
  after(() => t.close());
  beforeEach(async () => {
    freshIndexedDB();
    const r = await openProductDb('demo', { create: createSchema, migrations: bundledMigrations });
    assert.ok(r);
    db = r.db;
  });
  afterEach(() => {
    for (const s of senders.splice(0)) s.stop();
    db.close();
  });

  /** A fixed clock: `nextCheckAt - T0` is the delay the sender chose. */
  const T0 = Date.now();

  interface Harness {
    sender: Sender;
    host: SenderHost;
    /** The tab's options change (as configure() does). */
    setIngestKey(key: string): void;
    locks: FakeLocks;
    /** What happened, in order: 'markCrashed', 'allowed', and each request's path. */
    events: string[];
    /** Each markCrashed call's result, in order. */
    crashChecks: Promise<string[]>[];
    states: SenderState[];
    /** The first published state that passes `test` (bounded wait). */
    state(what: string, test: (s: SenderState) => boolean, ms?: number): Promise<SenderState>;
    /** Resolves when a request to `path` has been made (bounded wait). */
    request(path: string, ms: number): Promise<string>;
    requests: ReturnType<typeof recordingFetch>['requests'];
  }

  const start = (
    o: { allowed?: boolean; locks?: FakeLocks; tabId?: string; ingestKey?: string; agentVersion?: string; settle?: RecordingOptions['settle'] } = {},
  ): Harness => {
    const locks = o.locks ?? new FakeLocks();
    const events: string[] = [];
    const crashChecks: Promise<string[]>[] = [];
    const states: SenderState[] = [];
    const stateListeners: ((s: SenderState) => void)[] = [];
    const requestListeners: ((path: string) => void)[] = [];
    const f = recordingFetch({
      intercept: (r) => {
        events.push(r.path);
        for (const l of requestListeners) l(r.path);
        return undefined;
      },
      settle: (r) => o.settle?.(r),
    });
    const options = resolveOptions({
      product: 'demo',
      application: 'editor',
      version: '1.0.0',
      server: { url: t.collector.url, ingestKey: o.ingestKey ?? KEYS.all, autoSendSessions: true },
    });
    const server = () => options.server;
    const host: SenderHost = {
      product: 'demo',
      application: 'editor',
      tabId: o.tabId ?? 'tab-1',
      server,
      database: () => db,
      markCrashed: () => {
        events.push('markCrashed');
        const check = markCrashedSessions(db, { locks });
        crashChecks.push(check);
        return check;
      },
      allowed: async () => {
        events.push('allowed');
        return o.allowed ?? true;
      },
    };
    const sender = startSender(host, {
      compress: compressor(db),
      fetch: f.fetch,
      locks,
      now: () => T0,
      chunkSize: 4096,
      ...(o.agentVersion ? { agentVersion: o.agentVersion } : {}),
      onState: (s) => {
        states.push(s);
        for (const l of stateListeners) l(s);
      },
    });
    senders.push(sender);
    return {
      sender,
      host,
      setIngestKey: (key) => {
        options.server = { ...options.server, ingestKey: key };
      },
      locks,
      events,
      crashChecks,
      states,
      requests: f.requests,
      state: (what, test, ms = 10_000) => first(what, ms, states, (cb) => stateListeners.push(cb), test),
      request: (path, ms) =>
        first(
          `a request to ${path}`,
          ms,
          events,
          (cb) => requestListeners.push(cb),
          (p) => p === path,
        ),
    };
  };

  test('becoming leader marks crashed sessions at once and, having found one, sends it immediately rather than at the first check', async () => {
    // A tab that died: its session is still `running` and nobody holds its live lock.
    const s = await seedSession(db, { status: 'running', messages: 30 });
    const started = Date.now();
    const h = start();
    await h.request(PATHS.summaries, CADENCE.firstCheckMs - 1000);
    const elapsed = Date.now() - started;

    assert.equal(h.sender.isLeader(), true);
    assert.equal(h.locks.isHeld(senderLockName('demo', 'editor')), true, 'elected by the sender lock of its application');
    assert.equal(h.events[0], 'markCrashed', 'the takeover marks crashed sessions before anything else');
    assert.ok(h.events.indexOf('markCrashed') < h.events.indexOf(PATHS.summaries));
    assert.ok(elapsed < CADENCE.firstCheckMs, `the pass began after ${elapsed} ms, before the first scheduled check`);
    assert.equal(h.states[0].leader, true);
    assert.equal(h.states[0].nextCheckAt, T0 + CADENCE.firstCheckMs, 'becoming leader first schedules the 5 s check');
    assert.deepEqual(await h.crashChecks[0], [s.id], 'the takeover found the dead tab’s session');
    const passing = h.states.find((st) => st.phase === 'summaries');
    assert.equal(passing?.nextCheckAt, T0, 'the crashed session found rescheduled the check to now');

    const end = await h.state('the pass to finish', (st) => st.phase === 'idle' && st.sent === 1);
    assert.equal(end.queued, 0);
    assert.equal(end.nextCheckAt, T0 + CADENCE.everyMs, 'then back to the normal period');
    assert.equal((await db.get('sessions', s.id))?.status, 'crashed');
    assert.equal((await getDelivery(db, s.id))?.detailState, 'sent');
    assert.equal((await t.collector.store.getSession(s.id))?.summary.status, 'crashed');
    assert.equal(h.events.filter((e) => e === 'markCrashed').length, 2, 'at takeover, and again as step 1 of the pass');
  });

  test('when sending is not allowed the pass publishes "no-consent" and makes no request', async () => {
    const s = await seedSession(db, { status: 'running' });
    const h = start({ allowed: false });
    const refused = await h.state('the no-consent state', (st) => st.phase === 'no-consent');

    assert.equal(refused.leader, true);
    assert.equal(refused.sent, 0);
    assert.equal(refused.nextCheckAt, T0 + CADENCE.everyMs, 'asks again at the normal period');
    assert.deepEqual(h.events, ['markCrashed', 'allowed'], 'consent is read; nothing is posted');
    assert.deepEqual(h.requests, []);
    assert.equal((await db.get('sessions', s.id))?.status, 'crashed', 'crash marking is local and still happens');
    assert.equal(await getDelivery(db, s.id), undefined, 'nothing was sent');
  });

  test('a waiting tab takes over when the leader stops, and sends the session the leader left running at once', async () => {
    const locks = new FakeLocks();
    const leaderSession = await seedSession(db, { status: 'running', messages: 20 });
    const releaseLive = await locks.hold(liveLockName(leaderSession.id));
    const a = start({ locks, tabId: 'tab-a' });
    await a.state('tab A to lead', (st) => st.leader);
    assert.deepEqual(await a.crashChecks[0], [], 'its own session is alive at tab A’s takeover');
    const b = start({ locks, tabId: 'tab-b' });
    await within(locks.whenWaiting(senderLockName('demo', 'editor')), 10_000, 'tab B to ask for the sender lock');
    assert.deepEqual(
      (await locks.query()).pending?.map((l) => l.name),
      [senderLockName('demo', 'editor')],
      'tab B waits for the lock',
    );
    assert.equal(b.sender.isLeader(), false, 'one sender per application');

    // Tab A's page crashes: its live lock and its sender lock go together.
    const stoppedAt = Date.now();
    releaseLive();
    a.sender.stop();
    await b.request(PATHS.summaries, CADENCE.firstCheckMs - 1000);
    assert.ok(Date.now() - stoppedAt < CADENCE.firstCheckMs, 'tab B sent at takeover, not at its first check');
    await b.state('tab B’s pass', (st) => st.phase === 'idle' && st.sent === 1);

    assert.equal(b.sender.isLeader(), true);
    assert.equal(a.sender.isLeader(), false);
    assert.deepEqual(a.requests, [], 'tab A never reached its first check');
    assert.equal((await db.get('sessions', leaderSession.id))?.status, 'crashed');
    assert.equal((await getDelivery(db, leaderSession.id))?.detailState, 'sent');
  });

  test('stop() during a pass: the pass finishes quietly, without an internal-error warning', async () => {
    const s = await seedSession(db, { status: 'running', messages: 300 });
    const h = start();
    await h.state('the upload to begin', (st) => st.phase === 'uploading');
    warnOnce('test:recorder', 'the console recorder sees the agent’s warnings');
    assert.match(warnings.at(-1) ?? '', /the console recorder sees/);
    const before = warnings.length;
    h.sender.stop();
    assert.equal(h.sender.isLeader(), false);
    // The pass under way goes on to the end (its upload is confirmed) and publishes its result.
    await h.state('the pass to finish', (st) => st.sent === 1);
    assert.equal((await getDelivery(db, s.id))?.detailState, 'sent');
    assert.deepEqual(warnings.slice(before), [], 'nothing is posted on the closed channel');
  });

  test('a 401 pauses the sender for 15–30 minutes: the state says why, the console says it once, nothing is parked, send-now asks nothing', async () => {
    const s = await seedSession(db);
    const before = warnings.length;
    const h = start({ ingestKey: 'revoked-key-0001' });
    const paused = await h.state('the sender to pause', (st) => st.phase === 'paused');
    assert.equal(paused.paused, 'unauthorized');
    assert.match(paused.lastError ?? '', /answered 401: unauthorized/);
    assert.deepEqual(paused.parked, []);
    const delay = (paused.nextCheckAt ?? 0) - T0;
    assert.ok(delay >= 15 * 60_000 && delay <= 30 * 60_000, `paused for ${delay} ms`);
    assert.equal(await getDelivery(db, s.id), undefined, 'nothing recorded for the session');
    const said = warnings.slice(before).filter((w) => w.includes('sending paused'));
    assert.equal(said.length, 1);
    assert.match(said[0], /does not know this ingest key/);
    const asked = h.requests.length;
    h.sender.requestSend('request');
    h.sender.requestSend('error');
    await within(db.get('sessions', s.id), 1000, 'a round trip to the database');
    assert.equal(h.requests.length, asked, 'no request while paused, whatever asks');
    assert.equal(h.sender.state().phase, 'paused');
  });

  test('fixing the key (targetChanged) ends the pause at once; the sessions go and none was parked', async () => {
    const s = await seedSession(db);
    const h = start({ ingestKey: 'wrong-key-00001' });
    await h.state('the sender to pause', (st) => st.phase === 'paused');
    h.setIngestKey(KEYS.all);
    h.sender.targetChanged();
    const sent = await h.state('the session sent', (st) => st.sent === 1);
    assert.equal(sent.paused, undefined);
    assert.equal(sent.failures, 0);
    assert.deepEqual(sent.parked, []);
    assert.equal((await getDelivery(db, s.id))?.detailState, 'sent');
  });

  test('a key fixed while the refused pass was still under way: the sender does not pause, it tries the new key at once', async () => {
    const s = await seedSession(db);
    let fix = (): void => {};
    const h = start({
      ingestKey: 'old-key-000001',
      // The 401 is on its way back when the app fixes the key.
      settle: (r) => {
        if (r.status === 401) fix();
      },
    });
    fix = () => {
      h.setIngestKey(KEYS.all);
      h.sender.targetChanged();
    };
    await h.state('the session sent', (st) => st.sent === 1);
    assert.equal(
      h.states.some((st) => st.phase === 'paused'),
      false,
      'never paused',
    );
    assert.equal((await getDelivery(db, s.id))?.detailState, 'sent');
  });

  test('at takeover, a session another agent version parked is tried again and sent', async () => {
    const s = await seedSession(db);
    await updateDelivery(db, s.id, 'summary-refused', (row) => park(row, 'sessions[0].color: unknown field', 400, { agentVersion: '0.0.9' }));
    const h = start({ agentVersion: '0.1.1' });
    await h.state('the session sent', (st) => st.sent === 1);
    const row = await getDelivery(db, s.id);
    assert.equal(row?.parked, undefined);
    assert.equal(row?.detailState, 'sent');
  });

  test('retryParked() un-parks every parked session, says how many, and the sender sends them now', async () => {
    const a = await seedSession(db);
    const b = await seedSession(db);
    // Parked by this very version, so the takeover leaves them alone: only retryParked() brings them back.
    for (const x of [a, b])
      await updateDelivery(db, x.id, 'upload-refused', (row) => park(row, 'answered 403: detail-not-wanted', 403, { agentVersion: AGENT_VERSION }));
    const h = start();
    await h.state('the sender elected', (st) => st.leader);
    assert.equal(await h.sender.retryParked(), 2);
    await h.state('both sent', (st) => st.sent === 2);
    assert.equal(await h.sender.retryParked(), 0, 'nothing left to un-park');
  });
});
