/** Upload locks shared by replicas through PostgreSQL advisory locks (store/pg-locker.ts). */

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createPgLocker } from '../../../src/server/store/pg-locker.js';
import { until } from '../../support/browser.js';
import { startPostgres, type TestPostgres } from '../../support/postgres.js';

let pg: TestPostgres;
before(async () => {
  pg = await startPostgres();
});
after(async () => pg?.stop());

test('two replicas never hold the same upload lock at once; other uploads are not blocked', async () => {
  const replicaA = createPgLocker(pg.url, { pollMs: 10 });
  const replicaB = createPgLocker(pg.url, { pollMs: 10 });
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
  const replicaA = createPgLocker(pg.url, { pollMs: 10 });
  const replicaB = createPgLocker(pg.url, { pollMs: 10 });
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
