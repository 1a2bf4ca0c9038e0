import assert from 'node:assert/strict';
import { test } from 'node:test';
import { crc32 } from '../../../../src/core/codec/crc32.js';

test('crc32 matches zlib', async () => {
  const { crc32: zcrc } = await import('node:zlib');
  const data = new TextEncoder().encode('The quick brown fox jumps over the lazy dog');
  assert.equal(crc32(data), zcrc(data));
  assert.equal(crc32(data.subarray(10), crc32(data.subarray(0, 10))), zcrc(data));
});
