import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BATCH, flushTimingFor } from '../../../../src/agent/storage/batchPolicy.js';

test('batching: errors and a full buffer flush now, others wait for one timer', () => {
  assert.equal(flushTimingFor('error', 1, true), 'now');
  assert.equal(flushTimingFor('critical', 1, false), 'now');
  assert.equal(flushTimingFor('verbose', BATCH.maxMessages, true), 'now');
  assert.equal(flushTimingFor('information', 5, false), 'timer');
  assert.equal(flushTimingFor('warning', 5, true), 'none');
  assert.equal(BATCH.maxDelayMs, 1000);
});
