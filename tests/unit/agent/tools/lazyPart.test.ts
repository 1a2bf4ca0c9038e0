// Before lazyPart (and its console monitor) loads, so the warnings it writes are recorded.
import '../../../support/console.js';
import assert from 'node:assert/strict';
import { mock, test } from 'node:test';
import { lazyPart } from '../../../../src/agent/tools/lazyPart.js';
import { warnings } from '../../../support/console.js';

/** A load that fails `failures` times, then resolves with 'module'. */
const flaky = (failures: number) => {
  let calls = 0;
  return {
    calls: () => calls,
    load: () => (++calls <= failures ? Promise.reject(new TypeError('Failed to fetch dynamically imported module')) : Promise.resolve('module')),
  };
};
const settle = () => new Promise((r) => setImmediate(r));

test('a failed load is tried again on `online`, before its backoff is over', async () => {
  {
    const events = new EventTarget();
    const l = flaky(1);
    const ready: string[] = [];
    const part = lazyPart({ what: 'sender', load: l.load, ready: (m) => ready.push(m), stopped: () => false, events });
    part.load();
    await settle();
    assert.equal(l.calls(), 1);
    assert.deepEqual(ready, []);
    events.dispatchEvent(new Event('online'));
    await settle();
    assert.equal(l.calls(), 2, 'online brought the retry forward');
    assert.deepEqual(ready, ['module']);
    assert.equal(warnings.filter((w) => w.includes('could not load the sender')).length, 1, 'named once on the console');
    part.cancel();
  }
});

test('without `online`, failed loads are retried with a growing backoff until one succeeds', async () => {
  mock.timers.enable({ apis: ['setTimeout'] });
  try {
    const l = flaky(3);
    const ready: string[] = [];
    const part = lazyPart({ what: 'send side', load: l.load, ready: (m) => ready.push(m), stopped: () => false, events: new EventTarget() });
    part.load();
    for (let i = 1; i <= 3; i++) {
      await settle();
      assert.equal(l.calls(), i);
      mock.timers.tick(5 * 60_000);
    }
    await settle();
    assert.equal(l.calls(), 4);
    assert.deepEqual(ready, ['module'], 'ready once, with the module');
    part.load();
    await settle();
    assert.equal(l.calls(), 4, 'a loaded part is not loaded again');
  } finally {
    mock.timers.reset();
  }
});

test('a stopped agent makes no further attempt, and cancel ends the retries', async () => {
  mock.timers.enable({ apis: ['setTimeout'] });
  try {
    const events = new EventTarget();
    const l = flaky(10);
    let stopped = false;
    const part = lazyPart({ what: 'sender', load: l.load, ready: () => assert.fail('never ready'), stopped: () => stopped, events });
    part.load();
    await settle();
    part.cancel();
    mock.timers.tick(10 * 60_000);
    events.dispatchEvent(new Event('online'));
    await settle();
    assert.equal(l.calls(), 1, 'cancelled: no retry');
    stopped = true;
    part.load();
    await settle();
    assert.equal(l.calls(), 1, 'stopped: no attempt');
  } finally {
    mock.timers.reset();
  }
});
