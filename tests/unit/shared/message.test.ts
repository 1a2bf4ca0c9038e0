import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeMessages, encodeLine, encodeMessages, MessageDecodeError } from '../../../src/shared/message.js';

test('message codec round-trips NDJSON and names the bad line', () => {
  const m = { sessionId: 's', seq: 1, time: 5, severity: 'error' as const, category: 'c', text: 'a\nb' };
  const text = encodeMessages([m, { ...m, seq: 2 }]);
  assert.equal(text.split('\n').length, 3);
  assert.deepEqual(decodeMessages(text), [m, { ...m, seq: 2 }]);
  assert.throws(
    () => decodeMessages(text + '{"x":1}\n'),
    (e: unknown) => e instanceof MessageDecodeError && e.line === 3,
  );
  assert.throws(() => decodeMessages('nope\n'), /line 1 is not JSON/);
});

test('encodeLine produces the same JSON the codec decodes', () => {
  const line = encodeLine(JSON.stringify('sid'), {
    seq: 3,
    time: 9,
    severity: 'warning',
    category: 'c"q',
    text: 'a\nb',
    detailsJson: '{"k":[1]}',
    exception: { name: 'E', message: 'm' },
  });
  assert.deepEqual(decodeMessages(line), [
    { sessionId: 'sid', seq: 3, time: 9, severity: 'warning', category: 'c"q', text: 'a\nb', details: { k: [1] }, exception: { name: 'E', message: 'm' } },
  ]);
});
