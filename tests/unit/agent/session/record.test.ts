import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pageUrl } from '../../../../src/agent/session/record.js';

const href = 'https://app.example.com/orders/42?token=secret&email=a%40b.c#access_token=xyz';

test('the page URL loses its query and fragment unless the privacy options keep them', () => {
  assert.equal(pageUrl(href, { keepUrlQuery: false, keepUrlFragment: false }), 'https://app.example.com/orders/42');
  assert.equal(pageUrl(href, { keepUrlQuery: true, keepUrlFragment: false }), 'https://app.example.com/orders/42?token=secret&email=a%40b.c');
  assert.equal(pageUrl(href, { keepUrlQuery: false, keepUrlFragment: true }), 'https://app.example.com/orders/42#access_token=xyz');
  assert.equal(pageUrl(href, { keepUrlQuery: true, keepUrlFragment: true }), href);
});
