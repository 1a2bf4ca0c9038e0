// The writer's record-only writes (a user or context change without a message) and its close
// (clearLocalData), over fake-indexeddb: the recording tab stays the record's one writer.
import '../../../support/indexeddb.js';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { resolveOptions } from '../../../../src/agent/config/options.js';
import { newSessionRecord } from '../../../../src/agent/session/record.js';
import { createWriter } from '../../../../src/agent/storage/writer.js';
import { createSchema } from '../../../../src/core/db/createSchema.js';
import { bundledMigrations } from '../../../../src/core/db/migrations.js';
import { openOrCreateProductDb } from '../../../../src/core/db/open.js';
import type { SessionRecord } from '../../../../src/core/db/schema.js';
import { freshIndexedDB } from '../../../support/indexeddb.js';

const setUp = async () => {
  freshIndexedDB();
  const { db } = await openOrCreateProductDb('p', { create: createSchema, migrations: bundledMigrations });
  const rec: SessionRecord = newSessionRecord(resolveOptions({ product: 'p', application: 'a', version: '1' }), Date.now());
  await db.put('sessions', structuredClone(rec));
  const writer = createWriter({
    database: () => db,
    ready: () => Promise.resolve(),
    record: () => rec,
    maxBuffered: () => 1000,
    freeSpace: async () => {},
    written: () => {},
    now: Date.now,
  });
  return { db, rec, writer };
};

test('a record change without a message is stored by the next flush, alone or with a batch', async () => {
  const { db, rec, writer } = await setUp();
  rec.user = { id: 'u-1' };
  writer.touch();
  await writer.flush();
  assert.deepEqual((await db.get('sessions', rec.id))?.user, { id: 'u-1' }, 'stored without any message');
  assert.equal((await db.getAll('chunks')).length, 0);

  rec.context = { plan: 'pro' };
  writer.touch();
  writer.push({ seq: 1, time: Date.now(), severity: 'information', category: 'c', text: 't' });
  await writer.flush();
  const stored = await db.get('sessions', rec.id);
  assert.deepEqual(stored?.context, { plan: 'pro' }, 'with the batch that followed');
  assert.equal(stored?.messageCount, 1);
  db.close();
});

test('after close nothing more is written: buffered messages are dropped, changes stay in memory', async () => {
  const { db, rec, writer } = await setUp();
  writer.push({ seq: 1, time: Date.now(), severity: 'error', category: 'c', text: 'buffered' });
  writer.close();
  rec.user = { id: 'u-2' };
  writer.touch();
  writer.push({ seq: 2, time: Date.now(), severity: 'error', category: 'c', text: 'after close' });
  await writer.flush();
  assert.equal(writer.buffered(), 0);
  assert.equal((await db.getAll('chunks')).length, 0);
  const stored = await db.get('sessions', rec.id);
  assert.equal(stored?.user, undefined);
  assert.equal(stored?.messageCount, 0);
  db.close();
});
