// Schema version 1 → 2: the sending side's fields leave the session records for `delivery` rows.
// A version-1 database is built by hand in fake-indexeddb, as the version-1 agent created it.
import '../../../support/indexeddb.js';
import assert from 'node:assert/strict';
import { beforeEach, test } from 'node:test';
import { createSchema } from '../../../../src/core/db/createSchema.js';
import { deliveryMap } from '../../../../src/core/db/delivery.js';
import { openDatabase } from '../../../../src/core/db/idb.js';
import * as m from '../../../../src/core/db/migrations.js';
import { type FerryDatabase, openProductDb } from '../../../../src/core/db/open.js';
import { DB_VERSION, type SessionRecord } from '../../../../src/core/db/schema.js';
import { isEligible } from '../../../../src/core/send/eligibility.js';
import { uuidv7 } from '../../../../src/shared/ids.js';
import { dbName } from '../../../../src/shared/names.js';
import { emptyCounts } from '../../../../src/shared/severity.js';
import { emptyLoss } from '../../../../src/shared/summary.js';
import { freshIndexedDB } from '../../../support/indexeddb.js';
import { chunksOf } from '../../../support/sending.js';

const NOW = 1_760_000_000_000;
/** As the page passes them: loaded on demand. */
const migrations = async () => m;

/** What a version-1 session record held beside the summary fields. */
interface V1Fields {
  detailState: 'none' | 'wanted' | 'not-wanted' | 'queued' | 'sent';
  summarySentAt?: number;
  sentAt?: number;
  packagedAt?: number;
  parked?: string;
  forceSend?: boolean;
}
type V1Session = SessionRecord & V1Fields;

const v1Session = (lastSeq: number, v1: V1Fields, status: SessionRecord['status'] = 'ended'): V1Session => ({
  id: uuidv7(),
  product: 'demo',
  application: 'editor',
  version: '1.0.0',
  status,
  startedAt: NOW - 100_000,
  ...(status === 'running' ? {} : { endedAt: NOW - 50_000 }),
  counts: { ...emptyCounts(), information: lastSeq },
  messageCount: lastSeq,
  lastSeq,
  bytes: 100 * lastSeq,
  userAgent: 'ua',
  url: 'https://app.example.com/',
  agentVersion: '0.0.9',
  persistence: 'indexeddb',
  dropped: emptyLoss(),
  heartbeatAt: NOW - 50_000,
  ...v1,
});

const stripped = (s: V1Session): SessionRecord => {
  const { detailState: _d, summarySentAt: _s, sentAt: _t, packagedAt: _p, parked: _k, forceSend: _f, ...rest } = s;
  return rest;
};

/** Creates `ferry:demo` at version 1 with the stores and indexes that version had, holding `sessions`. */
const createV1 = async (sessions: V1Session[]): Promise<void> => {
  const db = await openDatabase(dbName('demo'), 1, {
    upgrade(d) {
      const s = d.createObjectStore('sessions', { keyPath: 'id' });
      s.createIndex('by-app', 'application');
      s.createIndex('by-status', 'status');
      s.createIndex('by-detailState', 'detailState');
      s.createIndex('by-start', 'startedAt');
      d.createObjectStore('chunks', { keyPath: ['sessionId', 'seq'] });
      d.createObjectStore('outbox', { keyPath: 'sessionId' });
      d.createObjectStore('meta');
    },
  });
  const tx = db.transaction(['sessions', 'chunks', 'outbox', 'meta'], 'readwrite');
  for (const s of sessions) {
    void tx.objectStore('sessions').put(s);
    const text = `{"sessionId":"${s.id}","seq":1,"time":1,"severity":"information","category":"c","text":"t"}\n`;
    void tx
      .objectStore('chunks')
      .put({ sessionId: s.id, seq: 1, lastSeq: 1, count: 1, counts: { ...emptyCounts(), information: 1 }, bytes: text.length, text });
  }
  void tx.objectStore('meta').put({ id: 'instance-1', createdAt: 5 }, 'instance');
  await tx.done;
  db.close();
};

beforeEach(() => freshIndexedDB());

test('opening a version-1 database migrates every session: delivery rows as the old fields said, records stripped of them', async () => {
  const sent = v1Session(40, { detailState: 'sent', summarySentAt: 1000, sentAt: 1100 });
  const declined = v1Session(7, { detailState: 'not-wanted', summarySentAt: 2000 });
  const packaged = v1Session(12, { detailState: 'none', packagedAt: 3000 });
  const parked = v1Session(3, { detailState: 'none', parked: 'posting summaries answered 400: invalid-field' });
  const forced = v1Session(9, { detailState: 'queued', summarySentAt: 4000, forceSend: true }, 'crashed');
  const plain = v1Session(5, { detailState: 'none' });
  const all = [sent, declined, packaged, parked, forced, plain];
  await createV1(all);

  const opened = await openProductDb('demo', { create: createSchema, migrations, now: () => NOW });
  assert.ok(opened);
  const { db, created } = opened;
  try {
    assert.equal(created, false, 'an upgrade is not a new database');
    assert.equal(db.raw.version, DB_VERSION);
    assert.deepEqual([...db.raw.objectStoreNames].sort(), ['chunks', 'delivery', 'meta', 'outbox', 'sessions']);
    const tx = db.transaction('sessions');
    assert.deepEqual([...tx.store.raw.indexNames].sort(), ['by-app', 'by-status'], 'the unused version-1 indexes are gone');
    await tx.done;

    const rows = await deliveryMap(db);
    const base = { lastOp: 'migrated', updatedAt: NOW };
    assert.deepEqual(rows.get(sent.id), {
      ...base,
      sessionId: sent.id,
      summarySentAt: 1000,
      summaryStatus: 'ended',
      summarySeq: 40,
      detailState: 'sent',
      sentAt: 1100,
      sentSeq: 40,
    });
    assert.deepEqual(rows.get(declined.id), {
      ...base,
      sessionId: declined.id,
      summarySentAt: 2000,
      summaryStatus: 'ended',
      summarySeq: 7,
      detailState: 'not-wanted',
    });
    assert.deepEqual(rows.get(packaged.id), { ...base, sessionId: packaged.id, packagedAt: 3000, packagedSeq: 12 });
    assert.deepEqual(rows.get(parked.id), { ...base, sessionId: parked.id, parked: parked.parked });
    assert.deepEqual(rows.get(forced.id), {
      ...base,
      sessionId: forced.id,
      summarySentAt: 4000,
      summaryStatus: 'crashed',
      summarySeq: 9,
      detailState: 'queued',
      forceSend: true,
    });
    assert.equal(rows.has(plain.id), false, 'a session never summarised, sent nor packaged has no row');
    assert.equal(rows.size, 5);

    for (const s of all) {
      assert.deepEqual(await db.get('sessions', s.id), stripped(s), `session ${s.id} keeps its recording-side fields only`);
      assert.equal((await chunksOf(db, s.id)).length, 1, 'chunks are untouched');
    }
    assert.deepEqual(await db.get('meta', 'instance'), { id: 'instance-1', createdAt: 5 });
    assert.deepEqual(
      (await db.getAllFromIndex('sessions', 'by-status', 'crashed')).map((s) => s.id),
      [forced.id],
    );

    // The rows mean for the sender what the old fields meant.
    const scope = { product: 'demo', application: 'editor' };
    const eligible = all.filter((s) => isEligible(s, rows.get(s.id), scope)).map((s) => s.id);
    assert.deepEqual(eligible.sort(), [packaged.id, forced.id, plain.id].sort(), 'sent, declined and parked sessions stay settled');
  } finally {
    db.close();
  }
});

test('a second open of the migrated database changes nothing', async () => {
  const sent = v1Session(4, { detailState: 'sent', summarySentAt: 1, sentAt: 2 });
  await createV1([sent]);
  const first = await openProductDb('demo', { create: createSchema, migrations, now: () => NOW });
  assert.ok(first);
  const rows = await deliveryMap(first.db);
  first.db.close();
  const second = await openProductDb('demo', { create: createSchema, migrations, now: () => NOW + 1 });
  assert.ok(second);
  try {
    assert.equal(second.created, false);
    assert.deepEqual(await deliveryMap(second.db), rows, 'no migration runs at the current version');
    assert.deepEqual(await second.db.get('sessions', sent.id), stripped(sent));
  } finally {
    second.db.close();
  }
});

/** Every store with its key path and indexes (name, key path, unique, multiEntry), in a comparable form. */
const shapeOf = (db: FerryDatabase) => {
  const names = [...db.raw.objectStoreNames].sort();
  const tx = db.raw.transaction(names);
  return names.map((name) => {
    const store = tx.objectStore(name);
    const indexes = [...store.indexNames].sort().map((i) => {
      const index = store.index(i);
      return { i, keyPath: index.keyPath, unique: index.unique, multiEntry: index.multiEntry };
    });
    return { name, keyPath: store.keyPath, indexes };
  });
};

test('a new database has the same stores, keys and indexes as a version-1 database migrated (createSchema and the migrations agree)', async () => {
  await createV1([v1Session(2, { detailState: 'none' })]);
  const migrated = await openProductDb('demo', { create: createSchema, migrations, now: () => NOW });
  assert.ok(migrated);
  assert.equal(migrated.created, false);
  const fresh = await openProductDb('other', { create: createSchema, migrations, now: () => NOW });
  assert.ok(fresh);
  try {
    assert.equal(fresh.created, true);
    assert.equal(fresh.db.raw.version, DB_VERSION);
    assert.deepEqual(shapeOf(fresh.db), shapeOf(migrated.db));
  } finally {
    fresh.db.close();
    migrated.db.close();
  }
});

test('deliveryFromV1 maps each old field, and gives no row for a session the sender never touched', () => {
  const s = v1Session(8, { detailState: 'none' });
  const base = { sessionId: s.id, lastOp: 'migrated', updatedAt: NOW };
  assert.equal(m.deliveryFromV1(s, NOW), undefined);
  assert.equal(m.deliveryFromV1({ ...s, detailState: 'none', forceSend: false }, NOW), undefined, 'forceSend false is no information');
  assert.deepEqual(m.deliveryFromV1({ ...s, detailState: 'wanted', summarySentAt: 10 }, NOW), {
    ...base,
    summarySentAt: 10,
    summaryStatus: 'ended',
    summarySeq: 8,
    detailState: 'wanted',
  });
  // sentAt alone means sent, up to the session as it stands.
  assert.deepEqual(m.deliveryFromV1({ ...s, detailState: 'queued', sentAt: 20 }, NOW), { ...base, detailState: 'sent', sentAt: 20, sentSeq: 8 });
  assert.deepEqual(m.deliveryFromV1({ ...s, packagedAt: 30 }, NOW), { ...base, packagedAt: 30, packagedSeq: 8 });
  assert.deepEqual(m.deliveryFromV1({ ...s, parked: 'why' }, NOW), { ...base, parked: 'why' });
  assert.deepEqual(m.deliveryFromV1({ ...s, forceSend: true }, NOW), { ...base, forceSend: true });
  // A session sent while it ran (version 1 had no `partial`): sent up to its lastSeq then.
  const running = v1Session(6, { detailState: 'sent', summarySentAt: 1, sentAt: 2 }, 'running');
  assert.deepEqual(m.deliveryFromV1(running, NOW), {
    sessionId: running.id,
    lastOp: 'migrated',
    updatedAt: NOW,
    summarySentAt: 1,
    summaryStatus: 'running',
    summarySeq: 6,
    detailState: 'sent',
    sentAt: 2,
    sentSeq: 6,
  });
});
