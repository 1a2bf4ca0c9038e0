// Before limits (and its console monitor) loads, so the warnings it writes are recorded.
import '../../../support/console.js';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createLimits } from '../../../../src/agent/storage/limits.js';
import type * as PruneModule from '../../../../src/agent/storage/prune.js';
import type { FerryDatabase } from '../../../../src/core/db/open.js';
import type { SessionRecord } from '../../../../src/core/db/schema.js';
import { warnings } from '../../../support/console.js';

/** Limits over a stand-in database (the pruning module is faked), with errors collected. */
const limitsOver = (load: () => Promise<typeof PruneModule>, events: EventTarget, errors: unknown[]) =>
  createLimits(
    {
      database: () => ({}) as FerryDatabase,
      options: () => ({ maxLocalBytes: 1_000, maxLocalAgeDays: 7 }),
      current: () => ({}) as SessionRecord,
      now: () => 0,
      load,
      stopped: () => false,
      events,
    },
    (e) => errors.push(e),
  );

const settle = () => new Promise((r) => setImmediate(r));
/** Lets every pending promise and immediate run (the lazy load takes a few turns). */
const quiet = async () => {
  for (let i = 0; i < 20; i++) await settle();
};

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
  const limits = limitsOver(
    () => (++calls === 1 ? Promise.reject(new TypeError('Failed to fetch dynamically imported module')) : Promise.resolve(module)),
    events,
    errors,
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

test('a batch stored while a pruning runs is followed by one more pruning (which it may not have seen), and prunings never overlap', async () => {
  const calls: { release: (usage: number) => void }[] = [];
  let active = 0;
  let overlapped = false;
  const module = {
    enforceLimits: () =>
      new Promise<{ usage: number }>((resolve) => {
        active++;
        if (active > 1) overlapped = true;
        calls.push({
          release: (usage) => {
            active--;
            resolve({ usage });
          },
        });
      }),
  } as unknown as typeof PruneModule;
  const errors: unknown[] = [];
  const limits = limitsOver(() => Promise.resolve(module), new EventTarget(), errors);
  limits.written(1_500);
  await quiet();
  assert.equal(calls.length, 1, 'over the limit: a pruning');
  limits.written(600);
  // A QuotaExceededError asks for a pruning too: it waits for the one under way.
  const quota = limits.enforce(64 * 1024);
  await quiet();
  assert.equal(calls.length, 1, 'nothing else runs beside it');
  calls[0]!.release(900);
  await quiet();
  assert.equal(calls.length, 2, 'the quota pruning runs next');
  calls[1]!.release(900);
  await quota;
  await quiet();
  assert.equal(calls.length, 3, 'then once more for the batch stored while the first ran');
  calls[2]!.release(900);
  await quiet();
  assert.equal(calls.length, 3, 'and no more: nothing was stored since');
  limits.written(50);
  await quiet();
  assert.equal(calls.length, 3, 'under the limit: no pruning');
  assert.equal(overlapped, false, 'no two prunings at once');
  assert.deepEqual(errors, []);
});
