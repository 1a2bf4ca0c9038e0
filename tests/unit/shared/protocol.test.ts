import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseRetryAfter } from '../../../src/shared/protocol.js';

test('Retry-After accepts seconds and dates and is capped', () => {
  const now = Date.parse('2026-01-01T00:00:00Z');
  assert.equal(parseRetryAfter('7', now, 60_000), 7000);
  assert.equal(parseRetryAfter('999999', now, 60_000), 60_000);
  assert.equal(parseRetryAfter('Thu, 01 Jan 2026 00:00:10 GMT', now, 60_000), 10_000);
  assert.equal(parseRetryAfter(null, now, 60_000), undefined);
  assert.equal(parseRetryAfter('soon', now, 60_000), undefined);
});
