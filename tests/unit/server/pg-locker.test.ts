/** Upload locks shared by replicas through PostgreSQL advisory locks (store/pg-locker.ts). */

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import pg from 'pg';
import { createPgLocker, uploadLockKey } from '../../../src/server/store/pg-locker.js';
import { until } from '../../support/browser.js';
import { startPostgres, type TestPostgres } from '../../support/postgres.js';

let server: TestPostgres;
before(async () => {
  server = await startPostgres();
});
after(async () => server?.stop());

test('two replicas never hold the same upload lock at once; other uploads are not blocked', async () => {
  const replicaA = createPgLocker(server.url, { pollMs: 10 });
  const replicaB = createPgLocker(server.url, { pollMs: 10 });
  try {
    const never = new AbortController().signal;
    const a = replicaA.newLock('upload-1');
    await a.lock(never, () => {});
    let bHas = false;
    const b = replicaB.newLock('upload-1');
    const bLocked = b.lock(never, () => {}).then(() => (bHas = true));
    // Another upload is independent.
    const other = replicaB.newLock('upload-2');
    await other.lock(never, () => {});
    await other.unlock();
    assert.equal(bHas, false, 'B waits while A holds the lock');
    await a.unlock();
    await until(() => bHas, 'B to get the lock after A released it');
    await bLocked;
    await b.unlock();
  } finally {
    await replicaA.close();
    await replicaB.close();
  }
});

test('a waiting request gives up when its request is aborted', async () => {
  const replicaA = createPgLocker(server.url, { pollMs: 10 });
  const replicaB = createPgLocker(server.url, { pollMs: 10 });
  try {
    const a = replicaA.newLock('upload-3');
    await a.lock(new AbortController().signal, () => {});
    const stop = new AbortController();
    const waiting = replicaB.newLock('upload-3').lock(stop.signal, () => {});
    stop.abort();
    await assert.rejects(waiting, (e: { status_code?: number }) => e.status_code === 500);
    await a.unlock();
    // The lock is free again for B.
    const again = replicaB.newLock('upload-3');
    await again.lock(new AbortController().signal, () => {});
    await again.unlock();
  } finally {
    await replicaA.close();
    await replicaB.close();
  }
});

test('the lock key is 64 bits: two uploads whose 32-bit hashtext collides do not wait on each other', async () => {
  // Upload ids are 32 hex digits, like md5 output: among 300,000 of them two share a hashtext.
  const c = new pg.Client({ connectionString: server.url });
  await c.connect();
  let ids: string[];
  try {
    const r = await c.query<{ ids: string[] }>(
      'SELECT array_agg(h) AS ids FROM (SELECT md5(i::text) AS h FROM generate_series(1, 300000) i) x GROUP BY hashtext(h) HAVING count(*) > 1 LIMIT 1',
    );
    ids = r.rows[0]?.ids ?? [];
  } finally {
    await c.end();
  }
  assert.ok(ids.length >= 2, 'found two ids with the same hashtext');
  const [one, two] = ids as [string, string];
  assert.notEqual(uploadLockKey(one), uploadLockKey(two));
  const replicaA = createPgLocker(server.url, { pollMs: 10, acquireTimeoutMs: 500 });
  const replicaB = createPgLocker(server.url, { pollMs: 10, acquireTimeoutMs: 500 });
  try {
    const never = new AbortController().signal;
    const a = replicaA.newLock(one);
    await a.lock(never, () => {});
    // With hashtext keys this waited for A and then timed out. A is released whatever happens
    // (a pool does not close while a lock's connection is checked out).
    let refused: unknown;
    try {
      const b = replicaB.newLock(two);
      await b.lock(never, () => {});
      await b.unlock();
    } catch (e) {
      refused = e;
    } finally {
      await a.unlock();
    }
    assert.equal(refused, undefined, 'B got its own lock while A held the colliding one');
  } finally {
    await replicaA.close();
    await replicaB.close();
  }
});

test('uploadLockKey: a signed 64-bit decimal, stable, different per id', () => {
  const k = uploadLockKey('0123456789abcdef0123456789abcdef');
  assert.match(k, /^-?\d+$/);
  const n = BigInt(k);
  assert.ok(n >= -(2n ** 63n) && n < 2n ** 63n);
  assert.equal(uploadLockKey('0123456789abcdef0123456789abcdef'), k);
  const keys = new Set(Array.from({ length: 1000 }, (_, i) => uploadLockKey(i.toString(16).padStart(32, '0'))));
  assert.equal(keys.size, 1000);
});
