import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isLocalKeyOf } from '../../../../src/agent/storage/clear.js';
import { endMarkPrefix, watermarkKey } from '../../../../src/shared/names.js';

test('clearLocalData removes exactly the product’s localStorage keys, not those of a product named like them', () => {
  const id = '0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b';
  assert.equal(isLocalKeyOf('a', watermarkKey('a')), true);
  assert.equal(isLocalKeyOf('a', endMarkPrefix('a') + id), true);
  assert.equal(isLocalKeyOf('a', watermarkKey('a:ended')), false, '"ferry:a:ended:watermark" is product "a:ended"’s');
  assert.equal(isLocalKeyOf('a', endMarkPrefix('a:ended') + id), false);
  assert.equal(isLocalKeyOf('a', endMarkPrefix('a') + 'not-an-id'), false);
  assert.equal(isLocalKeyOf('a', watermarkKey('b')), false);
  assert.equal(isLocalKeyOf('a', 'ferry-admin-token'), false);
  assert.equal(isLocalKeyOf('a:ended', watermarkKey('a:ended')), true);
});
