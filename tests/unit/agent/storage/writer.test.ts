import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EXIT_CHUNK_CHARS, encodeBatch } from '../../../../src/agent/storage/writer.js';

test('the write at pagehide keeps every chunk under the blob-wrapping size; the drain keeps 1,000 messages per chunk', () => {
  const msgs = Array.from({ length: 3000 }, (_, i) => ({
    seq: i + 1,
    time: 1_700_000_000_000 + i,
    severity: (i % 7 === 0 ? 'error' : 'information') as 'error' | 'information',
    category: 'Burst',
    text: i === 1500 ? 'x'.repeat(EXIT_CHUNK_CHARS + 10) : `message ${i} ${'·'.repeat(i % 300)}`,
  }));
  const exit = encodeBatch('s1', msgs, EXIT_CHUNK_CHARS);
  const drain = encodeBatch('s1', msgs);
  assert.deepEqual(
    drain.chunks.map((c) => c.count),
    [1000, 1000, 1000],
  );
  for (const e of [exit, drain]) {
    assert.equal(e.count, 3000);
    assert.equal(e.chunks.map((c) => c.text).join(''), drain.chunks.map((c) => c.text).join(''), 'the same NDJSON, cut differently');
    assert.equal(
      e.chunks.reduce((n, c) => n + c.count, 0),
      3000,
    );
    e.chunks.forEach((c, k) => {
      assert.equal(c.lastSeq - c.seq + 1, c.count, 'contiguous');
      if (k > 0) assert.equal(c.seq, e.chunks[k - 1].lastSeq + 1, 'no gap, no overlap');
    });
  }
  const big = exit.chunks.filter((c) => c.text.length > EXIT_CHUNK_CHARS);
  assert.deepEqual(
    big.map((c) => [c.seq, c.count]),
    [[1501, 1]],
    'only a single oversized message stands alone over the limit',
  );
  assert.ok(exit.chunks.length > 3, `${exit.chunks.length} chunks`);
});
