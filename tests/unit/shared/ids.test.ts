import assert from 'node:assert/strict';
import { test } from 'node:test';
import { UUID_RE, uuidv7 } from '../../../src/shared/ids.js';

test('uuidv7 ids are valid and sort by time', () => {
  const a = uuidv7(1000);
  const b = uuidv7(2000);
  assert.match(a, UUID_RE);
  assert.equal(a[14], '7');
  assert.ok(a < b);
});
