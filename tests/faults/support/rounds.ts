/**
 * One round of the Node-side fault classes: ended sessions seeded into a fresh product database
 * (fake-indexeddb, as the recording tab writes them), then the real core send pass run again and
 * again through the fault proxy until every session is confirmed sent, then what the collector
 * holds compared with what was seeded.
 */
import assert from 'node:assert/strict';
import { createSchema } from '../../../src/core/db/createSchema.js';
import { getDelivery } from '../../../src/core/db/delivery.js';
import { bundledMigrations } from '../../../src/core/db/migrations.js';
import { openProductDb } from '../../../src/core/db/open.js';
import { type PassResult, sendPass } from '../../../src/core/send/pass.js';
import { freshIndexedDB } from '../../support/indexeddb.js';
import { FakeLocks } from '../../support/locks.js';
import { compressor, seedSession } from '../../support/sending.js';
import { KEYS } from '../../unit/server/harness.js';
import type { Delivered } from './collected.js';
import type { FaultProxy } from './proxy.js';
import { compare, type Outcome, type Rng, SEED } from './tally.js';

export interface RoundOptions {
  proxy: FaultProxy;
  /** Reads what the collector holds for these sessions. */
  read(ids: string[]): Promise<Map<string, Delivered>>;
  sessions?: number;
  /** Per request, when shorter than the default (black holes). */
  timeoutMs?: number;
  /** Run before each pass (a collector killed by the last one is restarted here). */
  beforePass?(): Promise<void>;
  /** Faults injected outside the proxy's plan (kills, restarts), counted by the caller. */
  extraFaults?(): number;
  /** Told each pass's result. */
  onPass?(r: PassResult): void;
}

export interface RoundResult {
  outcome: Outcome;
  faults: number;
  passes: number;
}

/** Upload chunks of 4 KiB, so each detail goes up in several PATCHes. */
export const CHUNK = 4096;

export const sendRound = async (r: Rng, o: RoundOptions): Promise<RoundResult> => {
  freshIndexedDB();
  const opened = await openProductDb('demo', { create: createSchema, migrations: bundledMigrations });
  assert.ok(opened);
  const db = opened.db;
  const expected = new Map<string, number>();
  for (let i = 0; i < (o.sessions ?? 3); i++) {
    // 120–360 messages of ~120 chars: 2–6 upload chunks after gzip.
    const s = await seedSession(db, { messages: r.int(120, 360), textChars: 100, startedAt: Date.now() - 60_000 + i });
    expected.set(s.id, s.messageCount);
  }
  const faultsBefore = o.proxy.log.filter((x) => x.fault !== 'pass').length;
  const unsent = async (): Promise<number> => {
    let n = 0;
    for (const id of expected.keys()) if ((await getDelivery(db, id))?.detailState !== 'sent') n++;
    return n;
  };
  let passes = 0;
  try {
    while ((await unsent()) > 0) {
      assert.ok(passes < 300, `every session confirmed within 300 passes (seed ${SEED})`);
      passes++;
      await o.beforePass?.();
      const result = await sendPass({
        db,
        target: { url: o.proxy.url, ingestKey: KEYS.all },
        product: 'demo',
        purge: false,
        compress: compressor(db),
        locks: new FakeLocks(),
        chunkSize: CHUNK,
        ...(o.timeoutMs ? { requestTimeoutMs: o.timeoutMs } : {}),
      });
      o.onPass?.(result);
    }
  } finally {
    o.proxy.plan = () => ({ type: 'pass' });
    o.proxy.onReply = undefined;
    db.close();
  }
  await o.beforePass?.();
  const faults = o.proxy.log.filter((x) => x.fault !== 'pass').length - faultsBefore + (o.extraFaults?.() ?? 0);
  return { outcome: compare(expected, await o.read([...expected.keys()])), faults, passes };
};

export const assertExact = (name: string, x: RoundResult): void => {
  const { sessions, messages } = x.outcome;
  assert.deepEqual(
    { sessionsDelivered: sessions.delivered, sessionsDuplicated: sessions.duplicated, lost: messages.lost, duplicated: messages.duplicated },
    { sessionsDelivered: sessions.expected, sessionsDuplicated: 0, lost: 0, duplicated: 0 },
    `${name}: every session once, every message once (replay with FERRY_FAULT_SEED=${SEED})`,
  );
};
