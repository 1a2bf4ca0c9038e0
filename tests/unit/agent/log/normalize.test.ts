import assert from 'node:assert/strict';
import { test } from 'node:test';
import { category, exceptionInfo, safeJson, text } from '../../../../src/agent/log/normalize.js';
import { MESSAGE_LIMITS, TRUNCATION_MARKER } from '../../../../src/shared/message.js';

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
  assert.equal(
    text({
      toString() {
        throw new Error('no');
      },
    }),
    '{}',
  );
  const hostile = {
    get x() {
      throw new Error('boom');
    },
  };
  assert.equal(safeJson(hostile), '"[unserialisable]"');
  assert.deepEqual(exceptionInfo('plain'), { name: 'string', message: 'plain' });
  assert.equal(exceptionInfo(new RangeError('r')).name, 'RangeError');
});

test('an exception keeps its cause chain in the stack, Java style, at most five deep', () => {
  const root = new RangeError('disk full');
  const mid = new Error('write failed', { cause: root });
  const top = new Error('upload failed', { cause: mid });
  const info = exceptionInfo(top);
  assert.equal(info.name, 'Error');
  assert.equal(info.message, 'upload failed');
  assert.match(info.stack!, /^Error: upload failed\n/);
  assert.match(info.stack!, /\nCaused by: Error: write failed\n\s+at /);
  assert.match(info.stack!, /\nCaused by: RangeError: disk full\n\s+at /);
  const loop: Error & { cause?: unknown } = new Error('loop');
  loop.cause = loop;
  assert.equal(exceptionInfo(loop).stack!.split('Caused by').length - 1, 5, 'a cycle stops after five causes');
  assert.match(exceptionInfo(new Error('plain', { cause: 'a reason' })).stack!, /\nCaused by: a reason$/);
});
