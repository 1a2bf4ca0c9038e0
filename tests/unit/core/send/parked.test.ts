// Which parked sessions are tried again, over fake-indexeddb (pure logic on delivery rows).
import '../../../support/indexeddb.js';
import assert from 'node:assert/strict';
import { afterEach, beforeEach, test } from 'node:test';
import { createSchema } from '../../../../src/core/db/createSchema.js';
import { getDelivery, updateDelivery } from '../../../../src/core/db/delivery.js';
import { bundledMigrations } from '../../../../src/core/db/migrations.js';
import { type FerryDatabase, openProductDb } from '../../../../src/core/db/open.js';
import type { DeliveryRecord } from '../../../../src/core/db/schema.js';
import { isNewerVersion, park, parkedByOtherAgent, refusedByOlderCollector, unparkAll, unparkSessions } from '../../../../src/core/send/parked.js';
import { freshIndexedDB } from '../../../support/indexeddb.js';

let db: FerryDatabase;
beforeEach(async () => {
  freshIndexedDB();
  const r = await openProductDb('demo', { create: createSchema, migrations: bundledMigrations });
  assert.ok(r);
  db = r.db;
});
afterEach(() => db.close());

/** A row as the sender writes it when the collector refuses (or, without `ctx`, as the version-1 agent left it). */
const parked = async (id: string, status: number | undefined, ctx?: { agentVersion: string; collectorVersion?: string }, over: Partial<DeliveryRecord> = {}) =>
  updateDelivery(db, id, 'summary-refused', (row) => {
    Object.assign(row, over);
    if (ctx) park(row, `refused with ${status}`, status, ctx);
    else row.parked = `refused with ${status}`;
  });

test('versions compare by their numbers, part by part', () => {
  assert.equal(isNewerVersion('0.2.0', '0.1.9'), true);
  assert.equal(isNewerVersion('1.10.0', '1.9.2'), true);
  assert.equal(isNewerVersion('1.0', '1.0.0'), false);
  assert.equal(isNewerVersion('1.0.0', '1.0.1'), false);
  assert.equal(isNewerVersion('2.0.0-beta.1', '2.0.0-beta.0'), true);
});

test('another agent version un-parks what was refused for its content (400, 413, 415, 422, or an older agent’s park), not the rest', async () => {
  await parked('bad-field', 400, { agentVersion: '0.1.0' });
  await parked('too-large', 413, { agentVersion: '0.1.0' });
  await parked('legacy', undefined);
  await parked('not-wanted', 403, { agentVersion: '0.1.0' });
  await parked('same-version', 400, { agentVersion: '0.2.0' });
  await parked('sent-summary', 400, { agentVersion: '0.1.0' }, { summarySentAt: 5, summaryStatus: 'ended', summarySeq: 9, detailState: 'queued' });
  const ids = await unparkSessions(db, parkedByOtherAgent('0.2.0'), 'unpark-new-agent', 1000);
  assert.deepEqual(ids.sort(), ['bad-field', 'legacy', 'sent-summary', 'too-large']);
  const row = await getDelivery(db, 'sent-summary');
  assert.deepEqual(row, { sessionId: 'sent-summary', lastOp: 'unpark-new-agent', updatedAt: 1000 }, 'park fields gone, and the summary is asked for again');
  assert.ok((await getDelivery(db, 'not-wanted'))?.parked, 'a 403 is about the collector’s policy, not the agent');
  assert.ok((await getDelivery(db, 'same-version'))?.parked, 'this version parked it itself');
});

test('a newer collector un-parks what an older one refused; the same or an older one does not', async () => {
  await parked('by-old', 400, { agentVersion: '0.1.0', collectorVersion: '0.1.0' });
  await parked('by-same', 400, { agentVersion: '0.1.0', collectorVersion: '0.2.0' });
  await parked('unknown-collector', 400, { agentVersion: '0.1.0' });
  assert.deepEqual(await unparkSessions(db, refusedByOlderCollector('0.2.0'), 'unpark-new-collector'), ['by-old']);
  assert.deepEqual(await unparkSessions(db, refusedByOlderCollector('0.1.5'), 'unpark-new-collector'), []);
  assert.equal((await getDelivery(db, 'by-old'))?.lastOp, 'unpark-new-collector');
});

test('unparkAll (retryParked) un-parks every parked session, whatever the reason, and touches no other row', async () => {
  await parked('a', 403, { agentVersion: '0.1.0' });
  await parked('b', 400, { agentVersion: '0.1.0' });
  await updateDelivery(db, 'sent', 'upload-confirmed', (row) => void (row.detailState = 'sent'), 5);
  assert.deepEqual((await unparkAll(db, 2000)).sort(), ['a', 'b']);
  assert.equal((await getDelivery(db, 'a'))?.lastOp, 'unpark-requested');
  assert.deepEqual(await getDelivery(db, 'sent'), { sessionId: 'sent', detailState: 'sent', lastOp: 'upload-confirmed', updatedAt: 5 });
  assert.deepEqual(await unparkAll(db), [], 'nothing left parked');
});
