import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createMessageBuffer } from '../../../../src/agent/storage/buffer.js';
import type { PendingMessage } from '../../../../src/shared/message.js';
import type { Severity } from '../../../../src/shared/severity.js';

/** Fills a buffer of `severities.length` with them (seq 1…n), pushes one more of `incoming`; returns what it keeps, as "seq:severity". */
const overflow = (severities: Severity[], incoming: Severity): { kept: string[]; accepted: boolean } => {
  const b = createMessageBuffer();
  const msg = (seq: number, severity: Severity): PendingMessage => ({ seq, time: seq, severity, category: 'c', text: 't' });
  severities.forEach((s, i) => assert.equal(b.push(msg(i + 1, s), severities.length), true));
  const accepted = b.push(msg(severities.length + 1, incoming), severities.length);
  return { kept: b.takeAll().map((m) => `${m.seq}:${m.severity}`), accepted };
};

test('overflow drops the oldest least-severe message, never an error for a verbose one; order is kept', () => {
  assert.deepEqual(overflow(['error', 'verbose', 'information', 'verbose'], 'warning').kept, ['1:error', '3:information', '4:verbose', '5:warning']);
  assert.deepEqual(overflow(['error', 'information'], 'error').kept, ['1:error', '3:error']);
  assert.deepEqual(overflow(['error', 'critical'], 'verbose'), { kept: ['1:error', '2:critical'], accepted: false });
  assert.deepEqual(overflow(['error', 'critical'], 'error').kept, ['1:error', '2:critical']);
  assert.deepEqual(overflow(['critical', 'error'], 'critical').kept, ['1:critical', '3:critical']);
});

test('the buffer keeps sequence order across severities and is empty after takeAll', () => {
  const b = createMessageBuffer();
  const order: Severity[] = ['verbose', 'error', 'information', 'verbose', 'critical', 'warning', 'information'];
  order.forEach((severity, i) => b.push({ seq: i + 1, time: 0, severity, category: 'c', text: 't' }, 100));
  assert.equal(b.size, 7);
  assert.deepEqual(
    b.takeAll().map((m) => m.seq),
    [1, 2, 3, 4, 5, 6, 7],
  );
  assert.equal(b.size, 0);
  assert.deepEqual(b.takeAll(), []);
});
