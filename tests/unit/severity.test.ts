import { test } from 'node:test';
import assert from 'node:assert/strict';
import { emptyCounts, severityRank, worstSeverity, isSeverity } from '../../src/shared/severity.js';
import { decodeMessages, encodeMessages, MessageDecodeError } from '../../src/shared/message.js';
import { parseRetryAfter } from '../../src/shared/protocol.js';
import { uuidv7, UUID_RE } from '../../src/shared/ids.js';

test('severity ranks order critical above verbose', () => {
  assert.ok(severityRank('critical') > severityRank('error'));
  assert.ok(severityRank('warning') > severityRank('information'));
  assert.equal(isSeverity('info'), false);
  const c = emptyCounts();
  assert.equal(worstSeverity(c), undefined);
  c.warning = 2;
  c.verbose = 1;
  assert.equal(worstSeverity(c), 'warning');
});

test('message codec round-trips NDJSON and names the bad line', () => {
  const m = { sessionId: 's', seq: 1, time: 5, severity: 'error' as const, category: 'c', text: 'a\nb' };
  const text = encodeMessages([m, { ...m, seq: 2 }]);
  assert.equal(text.split('\n').length, 3);
  assert.deepEqual(decodeMessages(text), [m, { ...m, seq: 2 }]);
  assert.throws(() => decodeMessages(text + '{"x":1}\n'), (e: unknown) => e instanceof MessageDecodeError && e.line === 3);
  assert.throws(() => decodeMessages('nope\n'), /line 1 is not JSON/);
});

test('Retry-After accepts seconds and dates and is capped', () => {
  const now = Date.parse('2026-01-01T00:00:00Z');
  assert.equal(parseRetryAfter('7', now, 60_000), 7000);
  assert.equal(parseRetryAfter('999999', now, 60_000), 60_000);
  assert.equal(parseRetryAfter('Thu, 01 Jan 2026 00:00:10 GMT', now, 60_000), 10_000);
  assert.equal(parseRetryAfter(null, now, 60_000), undefined);
  assert.equal(parseRetryAfter('soon', now, 60_000), undefined);
});

test('uuidv7 ids are valid and sort by time', () => {
  const a = uuidv7(1000);
  const b = uuidv7(2000);
  assert.match(a, UUID_RE);
  assert.equal(a[14], '7');
  assert.ok(a < b);
});
