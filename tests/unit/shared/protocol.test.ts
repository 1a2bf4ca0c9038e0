import assert from 'node:assert/strict';
import { test } from 'node:test';
import { responseError } from '../../../src/shared/http-errors.js';
import { parseRetryAfter } from '../../../src/shared/protocol.js';

test('Retry-After accepts seconds and dates and is capped', () => {
  const now = Date.parse('2026-01-01T00:00:00Z');
  assert.equal(parseRetryAfter('7', now, 60_000), 7000);
  assert.equal(parseRetryAfter('999999', now, 60_000), 60_000);
  assert.equal(parseRetryAfter('Thu, 01 Jan 2026 00:00:10 GMT', now, 60_000), 10_000);
  assert.equal(parseRetryAfter(null, now, 60_000), undefined);
  assert.equal(parseRetryAfter('soon', now, 60_000), undefined);
});

test("a Retry-After date is read against the server's Date header, so a device clock a day off waits what the server said", async () => {
  const server = Date.parse('2026-01-01T00:00:00Z');
  const DAY = 86_400_000;
  const answer = (headers: Record<string, string>) => new Response('{}', { status: 429, headers });
  const at = new Date(server + 90_000).toUTCString();
  const dated = { 'retry-after': at, date: new Date(server).toUTCString() };
  for (const skew of [-DAY, 0, DAY]) assert.equal((await responseError('summaries', 'u', answer(dated), server + skew)).retryAfterMs, 90_000, `skew ${skew}`);
  // Without a Date header the device clock is all there is.
  assert.equal((await responseError('summaries', 'u', answer({ 'retry-after': at }), server + 30_000)).retryAfterMs, 60_000);
  assert.equal((await responseError('summaries', 'u', answer({ 'retry-after': at, date: 'not a date' }), server)).retryAfterMs, 90_000);
});
