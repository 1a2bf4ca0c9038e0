import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { createMessageReader, heapEstimate } from '../../../src/server/read/messages.js';
import { createBlobStore } from '../../../src/server/store/blobs.js';
import { fingerprintOf, normaliseMessage, topFrames } from '../../../src/server/triage/fingerprint.js';
import { terms } from '../../../src/server/triage/search-terms.js';
import type { LogMessage } from '../../../src/shared/message.js';
import { makeDetail, makeMessages } from './fixtures.js';

const msg = (over: Partial<LogMessage>): LogMessage => ({ sessionId: 's', seq: 1, time: 0, severity: 'error', category: 'c', text: 't', ...over });

test('messages are normalised: URLs, ids, numbers and quoted values become placeholders', () => {
  assert.equal(
    normaliseMessage(`Failed to fetch https://api.example.com/orders/991?x=1 for user 3f0c2a1e-9b7d-4c1a-8e2f-0a1b2c3d4e5f after 3.5 s: "timeout"`),
    'Failed to fetch <url> for user <id> after <n> s: <str>',
  );
  assert.equal(normaliseMessage('object 0xdeadbeef1 at 12'), 'object <n> at <n>');
});

test('stack frames keep function and file, not host, build hash, line or column', () => {
  const v8 =
    'TypeError: x\n    at computeTotal (https://a.example/assets/cart.3f9a1c2b.js:10:5)\n    at https://a.example/main.js:1:2\n    at b (c.js:1:1)\n    at d (e.js:1:1)';
  assert.deepEqual(topFrames(v8), ['computeTotal@cart.js', '?@main.js', 'b@c.js']);
  assert.deepEqual(topFrames('computeTotal@https://a.example/assets/cart.js:10:5\n@https://a.example/main.js:1:2'), ['computeTotal@cart.js', '?@main.js']);
});

test('fingerprints: same fault, same group across deploys; other product, name or frames differ; infos have none', () => {
  const a = fingerprintOf('p', msg({ exception: { name: 'TypeError', message: 'bad id 12', stack: '    at f (https://h/app.aaaaaaaa.js:1:2)' } }));
  const b = fingerprintOf('p', msg({ exception: { name: 'TypeError', message: 'bad id 99', stack: '    at f (https://other/app.bbbbbbbb.js:7:9)' } }));
  assert.ok(a && b);
  assert.equal(a.id, b.id);
  assert.notEqual(a.id, fingerprintOf('q', msg({ exception: { name: 'TypeError', message: 'bad id 12', stack: '    at f (https://h/app.js:1:2)' } }))?.id);
  assert.notEqual(a.id, fingerprintOf('p', msg({ exception: { name: 'RangeError', message: 'bad id 12', stack: '    at f (https://h/app.js:1:2)' } }))?.id);
  assert.notEqual(a.id, fingerprintOf('p', msg({ exception: { name: 'TypeError', message: 'bad id 12', stack: '    at g (https://h/app.js:1:2)' } }))?.id);
  assert.equal(fingerprintOf('p', msg({ severity: 'warning' })), undefined);
  assert.equal(fingerprintOf('p', msg({ severity: 'error', category: 'sync', text: 'failed after 12 ms\nmore' }))?.title, 'failed after <n> ms');
});

test('search terms: lowercase letter and digit runs, any script', () => {
  assert.deepEqual(terms('TypeError: x.total — Überweisung 42 失败'), ['typeerror', 'x', 'total', 'überweisung', '42', '失败']);
});

test('the message cache is bounded by estimated bytes, least recently used out first', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-cache-'));
  try {
    const blobs = await createBlobStore(dir);
    const details = [1, 2, 3].map((i) => makeDetail(makeMessages(`s${i}`, 1000)));
    for (const d of details) await blobs.put(d.sha256, { bytes: d.gz });
    const one = heapEstimate(details[0].ndjson.length, 1000);
    const reader = createMessageReader(blobs, 10 * 1024 * 1024, Math.floor(one * 2.5));
    for (const d of details) assert.equal((await reader.read(d.sha256))?.length, 1000);
    assert.ok(reader.cachedBytes <= one * 2.5, `${reader.cachedBytes} held`);
    assert.ok(reader.cachedBytes >= one * 2 - 1000, 'the two most recent are kept');
    reader.forget(details[2].sha256);
    assert.ok(reader.cachedBytes < one * 1.5);
    const tiny = createMessageReader(blobs, 10 * 1024 * 1024, 100);
    assert.equal((await tiny.read(details[0].sha256))?.length, 1000, 'a session larger than the cache is served');
    assert.equal(tiny.cachedBytes, 0, 'but not kept');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
