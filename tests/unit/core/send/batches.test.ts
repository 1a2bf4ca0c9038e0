import assert from 'node:assert/strict';
import { test } from 'node:test';
import { envelopeBytes, planBatches, type SerializedSummary, serializeSummary, summariesBody, utf8Length } from '../../../../src/core/send/batches.js';
import { LIMITS } from '../../../../src/shared/protocol.js';

const item = (i: number, bytes: number): SerializedSummary => {
  const pad = 'x'.repeat(Math.max(0, bytes - 20));
  return serializeSummary(`id-${i}`, { id: `id-${i}`, u: pad });
};

test('utf8Length counts what goes over the wire', () => {
  assert.equal(utf8Length('abc'), 3);
  assert.equal(utf8Length('é'), 2);
  assert.equal(utf8Length('編'), 3);
  assert.equal(utf8Length('😀'), 4);
});

test('batches stay under both limits, keep the order and lose nothing; each body is exactly as measured', () => {
  const items = Array.from({ length: 2500 }, (_, i) => item(i, 300 + (i % 7) * 900));
  const { batches, tooLarge } = planBatches(items, 'Acme Suite', { maxCount: 1000, maxBytes: 1024 * 1024 });
  assert.deepEqual(tooLarge, []);
  assert.deepEqual(
    batches.flat().map((b) => b.id),
    items.map((b) => b.id),
  );
  for (const b of batches) {
    assert.ok(b.length <= 1000);
    const body = summariesBody('Acme Suite', Date.now(), b);
    assert.ok(Buffer.byteLength(body) <= 1024 * 1024, `${Buffer.byteLength(body)} bytes`);
    assert.deepEqual(
      (JSON.parse(body) as { sessions: { id: string }[] }).sessions.map((s) => s.id),
      b.map((x) => x.id),
    );
  }
  // Full batches: adding the next summary would have gone over.
  for (let i = 0; i < batches.length - 1; i++) {
    const withNext = [...batches[i], batches[i + 1][0]];
    const over = withNext.length > 1000 || Buffer.byteLength(summariesBody('Acme Suite', Date.now(), withNext)) > 1024 * 1024;
    assert.ok(over, `batch ${i} could not take one more`);
  }
});

test('small summaries are split by count alone', () => {
  const items = Array.from({ length: 2001 }, (_, i) => item(i, 50));
  const { batches } = planBatches(items, 'demo');
  assert.deepEqual(
    batches.map((b) => b.length),
    [LIMITS.maxSummariesPerRequest, LIMITS.maxSummariesPerRequest, 1],
  );
});

test('a summary too large for a body even alone is set apart; the others are batched around it', () => {
  const items = [item(0, 100), item(1, 5000), item(2, 100)];
  const { batches, tooLarge } = planBatches(items, 'demo', { maxCount: 10, maxBytes: 1000 });
  assert.deepEqual(
    tooLarge.map((b) => b.id),
    ['id-1'],
  );
  assert.deepEqual(
    batches.map((b) => b.map((x) => x.id)),
    [['id-0', 'id-2']],
  );
  assert.ok(envelopeBytes('demo') + items[1].bytes > 1000);
});
