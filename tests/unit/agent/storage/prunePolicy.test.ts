import assert from 'node:assert/strict';
import { test } from 'node:test';
import { chooseChunkTrim, choosePrune } from '../../../../src/agent/storage/prunePolicy.js';
import { emptyCounts, type SeverityCounts } from '../../../../src/shared/severity.js';
import type { SessionStatus } from '../../../../src/shared/summary.js';

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
