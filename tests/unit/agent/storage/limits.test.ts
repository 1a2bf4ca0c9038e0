// Before limits (and its console monitor) loads, so the warnings it writes are recorded.
import '../../../support/console.js';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createLimits } from '../../../../src/agent/storage/limits.js';
import type * as PruneModule from '../../../../src/agent/storage/prune.js';
import type { FerryDatabase } from '../../../../src/core/db/open.js';
import type { SessionRecord } from '../../../../src/core/db/schema.js';
import { warnings } from '../../../support/console.js';

const settle = () => new Promise((r) => setImmediate(r));

test('pruning whose chunk failed to load (offline) is no internal error, and runs once the browser is online', async () => {
  const events = new EventTarget();
  const pruned: number[] = [];
  const module = {
    enforceLimits: async (_db: FerryDatabase, o: { maxAgeDays: number }) => {
      pruned.push(o.maxAgeDays);
      return { usage: 10 };
    },
  } as unknown as typeof PruneModule;
  let calls = 0;
  const errors: unknown[] = [];
  const limits = createLimits(
    {
      database: () => ({}) as FerryDatabase,
      options: () => ({ maxLocalBytes: 1_000, maxLocalAgeDays: 7 }),
      current: () => ({}) as SessionRecord,
      now: () => 0,
      load: () => (++calls === 1 ? Promise.reject(new TypeError('Failed to fetch dynamically imported module')) : Promise.resolve(module)),
      stopped: () => false,
      events,
    },
    (e) => errors.push(e),
  );
  await limits.enforce();
  assert.equal(calls, 1);
  assert.deepEqual(pruned, [], 'nothing pruned while the chunk is missing');
  assert.deepEqual(errors, [], 'a failed load is not an internal error');
  assert.equal(warnings.filter((w) => w.includes('could not load the storage pruning')).length, 1, 'named once on the console');

  events.dispatchEvent(new Event('online'));
  await settle();
  await settle();
  assert.equal(calls, 2, 'online loads the chunk again');
  assert.deepEqual(pruned, [7], 'the skipped pruning runs once it has loaded');

  await limits.enforce();
  assert.equal(calls, 2, 'a loaded chunk is not loaded again');
  assert.deepEqual(pruned, [7, 7]);
  assert.deepEqual(errors, []);
});
