import assert from 'node:assert/strict';
import { test } from 'node:test';
import { detectReset } from '../../../../src/agent/session/watermark.js';

test('storage reset is reported only when a watermark exists beside a new database', () => {
  assert.equal(detectReset(true, undefined, 5), undefined);
  assert.equal(detectReset(false, { instance: 'i', sessions: 3 }, 5), undefined);
  assert.deepEqual(detectReset(true, { instance: 'i', sessions: 3, lastSessionStartedAt: 2 }, 5), {
    detectedAt: 5,
    sessionsBefore: 3,
    lastSessionStartedAt: 2,
  });
});
