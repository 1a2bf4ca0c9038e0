// Faults of the collector itself: its process killed (SIGKILL) mid-upload and right after a 2xx,
// then restarted on the same data; and its PostgreSQL cut off (every connection dropped through a
// raw proxy) or restarted while uploads go on. The sending side is the real core send pass.
import '../support/indexeddb.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { until } from '../support/browser.js';
import { startPostgres, type TestPostgres } from '../support/postgres.js';
import { ADMIN, KEYS, startTestCollector, type TestCollector } from '../unit/server/harness.js';
import { type CollectorProcess, spawnCollector } from '../unit/server/spawn.js';
import { readDelivered, readDeliveredOverHttp } from './support/collected.js';
import { type FaultProxy, startProxy } from './support/proxy.js';
import { assertExact, sendRound } from './support/rounds.js';
import { record, reportAtEnd, rng, SEED } from './support/tally.js';

reportAtEnd(import.meta.filename);

const portOf = (url: string): number => Number(new URL(url).port);

describe('collector process killed (SIGKILL) and restarted on the same data', () => {
  let dir: string;
  let proc: CollectorProcess | undefined;
  let proxy: FaultProxy;
  /** Log records of every run of the process, in order. */
  const logs: Record<string, unknown>[] = [];
  let dead = true;
  const config = {
    adminTokens: [ADMIN],
    products: { demo: { policy: 'all', keys: [{ key: KEYS.all, origins: ['*'] }] } },
    rateLimit: { perMinute: 100_000, burst: 10_000 },
  };
  const start = async (): Promise<void> => {
    if (proc) logs.push(...proc.logs);
    proc = await spawnCollector(dir, config);
    dead = false;
    void proc.exited.then(() => (dead = true));
    proxy.target = { port: portOf(proc.url) };
  };
  const kill = (): void => {
    if (proc && !dead) proc.child.kill('SIGKILL');
  };
  const ensureRunning = async (): Promise<void> => {
    if (!dead) return;
    await proc?.exited;
    await start();
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ferry-faults-proc-'));
    proxy = await startProxy({ port: 1 });
    await start();
  });
  after(async () => {
    if (proc && !dead) await proc.kill('SIGKILL');
    await proxy?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const read = (ids: string[]) => readDeliveredOverHttp(proc!.url, ids, [...logs, ...proc!.logs]);

  test('killed while a chunk is on its way (the collector holds part of it), then restarted', async () => {
    const r = rng(SEED ^ 0x2001);
    for (let i = 0; i < 3; i++) {
      let patches = 0;
      // Kill on the 1st–3rd PATCH of the round and again on a later one: the request is cut
      // after a random number of its bytes and the process dies with it.
      const at = new Set([r.int(1, 3), r.int(4, 7)]);
      proxy.plan = (req) => {
        if (req.method !== 'PATCH' || !at.has(++patches)) return { type: 'pass' };
        setTimeout(kill, r.int(0, 20));
        return { type: 'cut-request', at: r.int(1, req.bytes - 1) };
      };
      const x = await sendRound(r, { proxy, read, sessions: 2, beforePass: ensureRunning, extraFaults: () => 0 });
      assertExact('killed mid-upload', x);
      record('collector SIGKILL mid-upload', x.faults, x.outcome);
    }
  });

  test('killed right after answering 2xx (the reply may or may not have reached the client)', async () => {
    const r = rng(SEED ^ 0x2002);
    for (let i = 0; i < 3; i++) {
      let kills = 0;
      let oks = 0;
      // The 2nd–6th success of the round, and the final PATCH's 204 of the first session.
      const at = r.int(2, 6);
      proxy.onReply = (req, status) => {
        if (status < 200 || status > 299 || req.method === 'HEAD') return;
        if (++oks === at || (req.method === 'PATCH' && kills === 0 && r.next() < 0.2)) {
          kills++;
          kill();
        }
      };
      const x = await sendRound(r, { proxy, read, sessions: 2, beforePass: ensureRunning, extraFaults: () => kills });
      assertExact('killed after 2xx', x);
      record('collector SIGKILL after 2xx', x.faults, x.outcome);
    }
  });
});

describe('PostgreSQL dropped and restarted under load (collector on the production store)', () => {
  let pg: TestPostgres;
  let dbProxy: FaultProxy;
  let front: FaultProxy;
  let t: TestCollector;
  before(async () => {
    pg = await startPostgres();
    dbProxy = await startProxy({ port: pg.port }, 'raw');
    const url = new URL(await pg.createDatabase('ferry_faults'));
    url.port = String(dbProxy.port);
    t = await startTestCollector({ listen: true, over: { store: { kind: 'postgres', url: url.href, poolSize: 4 } } });
    front = await startProxy({ port: portOf(t.collector.url) });
  });
  after(async () => {
    await front?.close();
    await t?.close();
    await dbProxy?.close();
    await pg?.stop();
  });

  test('every database connection dropped at random moments of the upload', async () => {
    const r = rng(SEED ^ 0x2003);
    for (let i = 0; i < 6; i++) {
      let drops = 0;
      front.plan = () => {
        // A drop while a quarter of the requests are on their way to the store.
        if (r.next() < 0.25) {
          drops++;
          setTimeout(() => dbProxy.dropAll(), r.int(0, 15));
        }
        return { type: 'pass' };
      };
      const x = await sendRound(r, { proxy: front, read: (ids) => readDelivered(t.collector.store, ids, t.logs), sessions: 3, extraFaults: () => drops });
      assertExact('database connections dropped', x);
      record('PostgreSQL connections dropped', x.faults, x.outcome);
    }
  });

  test('PostgreSQL unreachable for a while (refusing connections), then back', async () => {
    const r = rng(SEED ^ 0x2004);
    for (let i = 0; i < 3; i++) {
      let outages = 0;
      let n = 0;
      const at = r.int(2, 8);
      front.plan = () => {
        if (++n === at) {
          outages++;
          dbProxy.refuse = true;
          dbProxy.dropAll();
          setTimeout(() => (dbProxy.refuse = false), r.int(300, 1200));
        }
        return { type: 'pass' };
      };
      const x = await sendRound(r, {
        proxy: front,
        read: (ids) => readDelivered(t.collector.store, ids, t.logs),
        sessions: 2,
        extraFaults: () => outages,
        // The sender would back off; here the next pass waits for the database to be reachable again.
        beforePass: () => until(() => !dbProxy.refuse, 'the database back', 5000).then(() => undefined),
      });
      assertExact('database down', x);
      record('PostgreSQL down for 0.3-1.2 s', x.faults, x.outcome);
    }
  });
  test('PostgreSQL restarted (stopped as a crash, started again) while sessions upload', async () => {
    const r = rng(SEED ^ 0x2005);
    for (let i = 0; i < 2; i++) {
      let restarts = 0;
      let n = 0;
      let restarting: Promise<void> | undefined;
      const at = r.int(2, 6);
      front.plan = () => {
        if (++n === at) {
          restarts++;
          restarting = pg.restart();
        }
        return { type: 'pass' };
      };
      const x = await sendRound(r, {
        proxy: front,
        read: (ids) => readDelivered(t.collector.store, ids, t.logs),
        sessions: 2,
        extraFaults: () => restarts,
        beforePass: async () => {
          await restarting;
        },
      });
      assertExact('database restarted', x);
      record('PostgreSQL restarted', x.faults, x.outcome);
    }
  });
});
