import { test } from 'node:test';
import assert from 'node:assert/strict';
import { findProblems, resolveOptions, mergeOptions, DEFAULTS } from '../../src/agent/config/options.js';
import { exceptionInfo, safeJson, text, category } from '../../src/agent/log/normalize.js';
import { MESSAGE_LIMITS, TRUNCATION_MARKER, encodeLine, decodeMessages } from '../../src/shared/message.js';
import { detectReset } from '../../src/agent/session/watermark.js';

test('init options: required identity, each bad option named', () => {
  assert.throws(() => resolveOptions({} as never), (e: unknown) => e instanceof TypeError && /product/.test(e.message) && /application/.test(e.message) && /version/.test(e.message));
  assert.throws(() => resolveOptions(null as never), TypeError);
  const bad = findProblems({
    product: 'p',
    application: 'a',
    version: '1',
    server: { url: 'ftp://x', autoSendSessions: 'yes' },
    storage: { maxLocalBytes: -1 },
    capture: 'all',
    beforeLog: 3,
    colour: 'red',
  });
  assert.deepEqual(bad.map((p) => p.split(':')[0]).sort(), ['beforeLog', 'capture', 'colour', 'server.autoSendSessions', 'server.url', 'storage.maxLocalBytes']);
  const o = resolveOptions({ product: ' p ', application: 'a', version: '1', server: { url: 'https://c.example', ingestKey: 'k' } });
  assert.equal(o.product, 'p');
  assert.equal(o.server.autoSendSessions, DEFAULTS.server.autoSendSessions);
  assert.equal(o.server.url, 'https://c.example');
  assert.equal(o.storage.maxLocalBytes, 50 * 1024 * 1024);
  const changed = mergeOptions(o, { server: { autoSendSessions: true } });
  assert.equal(changed.server.autoSendSessions, true);
  assert.equal(changed.server.url, 'https://c.example', 'a partial change keeps the other fields');
});

test('normalising: circular, BigInt, huge strings and odd categories', () => {
  const a: Record<string, unknown> = { n: 1n, f: () => 1 };
  a.self = a;
  assert.equal(safeJson(a), '{"n":"1","self":"[Circular]"}');
  const huge = 'x'.repeat(MESSAGE_LIMITS.maxTextLength + 10);
  const t = text(huge);
  assert.equal(t.length, MESSAGE_LIMITS.maxTextLength);
  assert.ok(t.endsWith(TRUNCATION_MARKER));
  const big = safeJson({ s: 'y'.repeat(MESSAGE_LIMITS.maxDetailsLength) })!;
  assert.ok(big.length <= MESSAGE_LIMITS.maxDetailsLength);
  assert.equal(typeof JSON.parse(big), 'string', 'oversized details become a truncated JSON string');
  assert.equal(category(42), '42');
  assert.equal(category(undefined), 'General');
  assert.equal(text({ toString() { throw new Error('no'); } }), '{}');
  const hostile = { get x() { throw new Error('boom'); } };
  assert.equal(safeJson(hostile), '"[unserialisable]"');
  assert.deepEqual(exceptionInfo('plain'), { name: 'string', message: 'plain' });
  assert.equal(exceptionInfo(new RangeError('r')).name, 'RangeError');
});

test('encodeLine produces the same JSON the codec decodes', () => {
  const line = encodeLine(JSON.stringify('sid'), { seq: 3, time: 9, severity: 'warning', category: 'c"q', text: 'a\nb', detailsJson: '{"k":[1]}', exception: { name: 'E', message: 'm' } });
  assert.deepEqual(decodeMessages(line), [{ sessionId: 'sid', seq: 3, time: 9, severity: 'warning', category: 'c"q', text: 'a\nb', details: { k: [1] }, exception: { name: 'E', message: 'm' } }]);
});

test('storage reset is reported only when a watermark exists beside a new database', () => {
  assert.equal(detectReset(true, undefined, 5), undefined);
  assert.equal(detectReset(false, { instance: 'i', sessions: 3 }, 5), undefined);
  assert.deepEqual(detectReset(true, { instance: 'i', sessions: 3, lastSessionStartedAt: 2 }, 5), { detectedAt: 5, sessionsBefore: 3, lastSessionStartedAt: 2 });
});
