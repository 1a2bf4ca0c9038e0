import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BATCH, flushTimingFor } from '../../src/agent/storage/batchPolicy.js';
import { createMessageBuffer } from '../../src/agent/storage/buffer.js';
import type { PendingMessage } from '../../src/shared/message.js';
import type { Severity } from '../../src/shared/severity.js';
import { chooseChunkTrim, choosePrune } from '../../src/agent/storage/prunePolicy.js';
import { encodeBatch, EXIT_CHUNK_CHARS } from '../../src/agent/storage/writer.js';
import { emptyCounts, type SeverityCounts } from '../../src/shared/severity.js';
import type { SessionStatus } from '../../src/shared/summary.js';

test('batching: errors and a full buffer flush now, others wait for one timer', () => {
  assert.equal(flushTimingFor('error', 1, true), 'now');
  assert.equal(flushTimingFor('critical', 1, false), 'now');
  assert.equal(flushTimingFor('verbose', BATCH.maxMessages, true), 'now');
  assert.equal(flushTimingFor('information', 5, false), 'timer');
  assert.equal(flushTimingFor('warning', 5, true), 'none');
  assert.equal(BATCH.maxDelayMs, 1000);
});

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
  assert.deepEqual(b.takeAll().map((m) => m.seq), [1, 2, 3, 4, 5, 6, 7]);
  assert.equal(b.size, 0);
  assert.deepEqual(b.takeAll(), []);
});

const counts = (c: Partial<SeverityCounts> = {}): SeverityCounts => ({ ...emptyCounts(), ...c });
const s = (id: string, startedAt: number, bytes: number, o: { status?: SessionStatus; sent?: boolean; c?: Partial<SeverityCounts> } = {}) => ({
  id,
  startedAt,
  bytes,
  status: o.status ?? ('ended' as SessionStatus),
  counts: counts(o.c),
  sent: o.sent === true,
});
const NOW = 100 * 86_400_000;
const DAY = 86_400_000;

test('pruning: sent first, then info-only, then warnings, errors last; running never', () => {
  const sessions = [
    s('err-old', NOW - 9 * DAY, 100, { c: { error: 1 } }),
    s('info-new', NOW - 2 * DAY, 100, { c: { information: 3 } }),
    s('sent-new', NOW - 1 * DAY, 100, { sent: true, c: { error: 2 } }),
    s('warn', NOW - 8 * DAY, 100, { c: { warning: 1 } }),
    s('info-old', NOW - 7 * DAY, 100),
    s('running', NOW - 10 * DAY, 500, { status: 'running' }),
  ];
  const order = (maxBytes: number) => choosePrune({ sessions, maxBytes, maxAgeMs: 30 * DAY, now: NOW }).remove;
  assert.deepEqual(order(1000), []);
  assert.deepEqual(order(900), ['sent-new']);
  assert.deepEqual(order(700), ['sent-new', 'info-old', 'info-new']);
  assert.deepEqual(order(600), ['sent-new', 'info-old', 'info-new', 'warn']);
  assert.deepEqual(order(0), ['sent-new', 'info-old', 'info-new', 'warn', 'err-old']);
  const r = choosePrune({ sessions, maxBytes: 0, maxAgeMs: 30 * DAY, now: NOW });
  assert.equal(r.stillOver, 500, 'only the running session remains, over the limit');
});

test('pruning: age limit removes old sessions whatever their bytes, but not running ones', () => {
  const sessions = [s('old', NOW - 40 * DAY, 1, { c: { error: 1 } }), s('young', NOW - DAY, 1), s('live-old', NOW - 50 * DAY, 1, { status: 'running' })];
  assert.deepEqual(choosePrune({ sessions, maxBytes: 1e9, maxAgeMs: 30 * DAY, now: NOW }).remove, ['old']);
});

test('pruning under quota pressure frees the asked bytes even below the limit', () => {
  const sessions = [s('a', 1, 100), s('b', 2, 100), s('c', 3, 100)];
  assert.deepEqual(choosePrune({ sessions, maxBytes: 1e9, maxAgeMs: 1e12, now: 10, freeBytes: 150 }).remove, ['a', 'b']);
});

test('chunk trim of the running session drops error-free chunks first, oldest first', () => {
  const chunks = [
    { seq: 1, bytes: 10, hasErrors: true },
    { seq: 11, bytes: 10, hasErrors: false },
    { seq: 21, bytes: 10, hasErrors: false },
  ];
  assert.deepEqual(chooseChunkTrim(chunks, 15), [11, 21]);
  assert.deepEqual(chooseChunkTrim(chunks, 25), [11, 21, 1]);
  assert.deepEqual(chooseChunkTrim(chunks, 0), []);
});

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
  assert.deepEqual(drain.chunks.map((c) => c.count), [1000, 1000, 1000]);
  for (const e of [exit, drain]) {
    assert.equal(e.count, 3000);
    assert.equal(e.chunks.map((c) => c.text).join(''), drain.chunks.map((c) => c.text).join(''), 'the same NDJSON, cut differently');
    assert.equal(e.chunks.reduce((n, c) => n + c.count, 0), 3000);
    e.chunks.forEach((c, k) => {
      assert.equal(c.lastSeq - c.seq + 1, c.count, 'contiguous');
      if (k > 0) assert.equal(c.seq, e.chunks[k - 1].lastSeq + 1, 'no gap, no overlap');
    });
  }
  const big = exit.chunks.filter((c) => c.text.length > EXIT_CHUNK_CHARS);
  assert.deepEqual(big.map((c) => [c.seq, c.count]), [[1501, 1]], 'only a single oversized message stands alone over the limit');
  assert.ok(exit.chunks.length > 3, `${exit.chunks.length} chunks`);
});
