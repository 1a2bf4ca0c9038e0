import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { clockOffset } from '../../../src/server/clock.js';
import { ConfigError, DEFAULT_CONFIG, loadConfig, parseConfig } from '../../../src/server/config.js';
import { FieldError } from '../../../src/server/errors.js';
import { ALWAYS, createMemoryRateStore } from '../../../src/server/middleware/rate-limit.js';
import { checkEntryName } from '../../../src/server/package/zip.js';
import { decideDetail } from '../../../src/server/policy.js';
import { countsWith, makeSummary } from './fixtures.js';

test('defaults: loopback, embedded store, ./.data', () => {
  assert.equal(DEFAULT_CONFIG.host, '127.0.0.1');
  assert.deepEqual(DEFAULT_CONFIG.store, { kind: 'sqlite' });
  assert.equal(DEFAULT_CONFIG.dataDir, './.data');
});

test('config errors name the field', () => {
  const bad: [unknown, RegExp][] = [
    [{ port: 70000 }, /^port:/],
    [{ prot: 1 }, /^prot: unknown field/],
    [{ products: { demo: { policy: 'some', keys: [] } } }, /^products\.demo\.policy: must be one of/],
    [{ products: { demo: { keys: [{ key: 'short', origins: [] }] } } }, /^products\.demo\.keys\[0\]\.key:/],
    [{ products: { demo: { keys: [{ key: 'long-enough-key', origins: ['https://a.example/path'] }] } } }, /origins\[0\]: must be an origin without path/],
    [{ products: { a: { keys: [{ key: 'same-key-123', origins: [] }] }, b: { keys: [{ key: 'same-key-123', origins: [] }] } } }, /is used twice/],
    // Product names by the agent's own rule (shared/limits.ts).
    [{ products: { ' Acme': { keys: [] } } }, /^products\. Acme: is not a product name: it must not begin or end with white space/],
    [{ products: { 'Acme\u0007': { keys: [] } } }, /is not a product name: it must not contain control characters/],
    [{ store: { kind: 'postgres' } }, /^store\.url:/],
    [{ limits: { uploadBytes: 0 } }, /^limits\.uploadBytes:/],
    [{ adminTokens: ['short'] }, /^adminTokens\[0\]:/],
    [{ email: { smtp: { host: 'h' }, from: 'a@b', to: ['nope'] } }, /^email\.to\[0\]: must be an email address/],
  ];
  for (const [raw, re] of bad)
    assert.throws(
      () => parseConfig(raw),
      (e: unknown) => e instanceof FieldError && re.test(e.message),
      JSON.stringify(raw),
    );
  const ok = parseConfig({ products: { demo: { keys: [{ key: 'demo-key', origins: ['self', '*', 'http://localhost:5173'] }] } } });
  assert.equal(ok.products.demo.policy, 'error-or-worse', 'the default policy');
  assert.ok(parseConfig({ products: { 'Acme Suite': { keys: [{ key: 'acme-key-1', origins: ['*'] }] } } }).products['Acme Suite'], 'a name with a space');
});

test('loadConfig: the file, then environment variables over it', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-cfg-'));
  writeFileSync(
    join(dir, 'ferry.config.json'),
    JSON.stringify({ port: 9000, dataDir: 'store', products: { demo: { policy: 'all', keys: [{ key: 'demo-key', origins: ['self'] }] } } }),
  );
  const c = loadConfig([], { FERRY_PORT: '9100', FERRY_DATABASE_URL: 'postgres://u@127.0.0.1/db', FERRY_ADMIN_TOKEN: 'a-very-long-admin-token' }, dir);
  assert.equal(c.port, 9100);
  assert.equal(c.dataDir, join(dir, 'store'));
  assert.deepEqual(c.store, { kind: 'postgres', url: 'postgres://u@127.0.0.1/db', poolSize: 10 });
  assert.deepEqual(c.adminTokens, ['a-very-long-admin-token']);
  assert.equal(c.products.demo.keys[0].key, 'demo-key');
  assert.throws(() => loadConfig(['--config', 'missing.json'], {}, dir), ConfigError);
  assert.throws(() => loadConfig([], { FERRY_PORT: 'x' }, dir), /FERRY_PORT must be an integer/);
  rmSync(dir, { recursive: true, force: true });
});

test('policy decisions', () => {
  const s = (c: Parameters<typeof countsWith>[0], force?: boolean) => makeSummary({ counts: countsWith(c), ...(force ? { force } : {}) });
  assert.equal(decideDetail('all', s({})), 'wanted');
  assert.equal(decideDetail('none', s({ critical: 1 })), 'not-wanted');
  assert.equal(decideDetail('none', s({}, true)), 'wanted');
  assert.equal(decideDetail('error-or-worse', s({ warning: 5 })), 'not-wanted');
  assert.equal(decideDetail('error-or-worse', s({ critical: 1 })), 'wanted');
  assert.equal(decideDetail('warning-or-worse', s({ warning: 1 })), 'wanted');
  assert.equal(decideDetail('warning-or-worse', s({ information: 9 })), 'not-wanted');
});

test('clock offset applies only beyond the threshold, and at most the bound either way', () => {
  const day = 24 * 3600_000;
  assert.equal(clockOffset(1_000_000, 999_000, 60_000, day), 0);
  assert.equal(clockOffset(10_000_000, 1_000_000, 60_000, day), 9_000_000);
  assert.equal(clockOffset(1_000_000, 5_000_000, 60_000, day), -4_000_000);
  assert.equal(clockOffset(1_000_000, undefined, 60_000, day), 0);
  // A sentAt of 0 (or one far in the future) moves times by the bound, not by decades.
  assert.equal(clockOffset(1_700_000_000_000, 0, 60_000, day), day);
  assert.equal(clockOffset(1_700_000_000_000, 1_700_000_000_000 + 365 * day, 60_000, day), -day);
  assert.equal(clockOffset(1_700_000_000_000, 1_700_000_000_000 - day - 1, 60_000, day), day);
});

test('zip entry names: only plain relative paths', () => {
  for (const ok of ['manifest.json', 'sessions/a.ndjson', 'sessions/', 'a/b/c.txt']) assert.doesNotThrow(() => checkEntryName(ok), ok);
  for (const bad of ['../a', 'a/../b', '/etc/passwd', 'C:\\x', 'c:/x', 'a\\b', 'a//b', './a', 'a\0b', '']) assert.throws(() => checkEntryName(bad), bad);
});

test('rate limiter: burst, then the sustained rate; work charged after the fact leaves a debt', async () => {
  let now = 0;
  const rl = createMemoryRateStore();
  const op = { id: 'k', perMinute: 60, burst: 2, need: 1, cost: 1 };
  assert.deepEqual(await rl.take([op], now), [0]);
  assert.deepEqual(await rl.take([op], now), [0]);
  assert.deepEqual(await rl.take([op], now), [1000]);
  now += 1000;
  assert.deepEqual(await rl.take([op, { ...op, id: 'other' }], now), [0, 0]);
  // Work: a check needs credit, a charge always lands and may go below zero.
  const work = { id: 'w', perMinute: 60_000, burst: 1000, need: 1, cost: 0 };
  assert.deepEqual(await rl.take([{ ...work, need: ALWAYS, cost: 3000 }], now), [0]);
  assert.deepEqual(await rl.take([work], now), [2001], 'in debt of 2000 bytes at 1 byte/ms');
  now += 2001;
  assert.deepEqual(await rl.take([work], now), [0]);
  assert.equal(await rl.sweep(now), 2, 'the refilled buckets (k, other) are forgotten, the refilling one (w) is kept');
  assert.deepEqual(await rl.take([{ ...work, need: 1000 }], now), [999], 'w still remembers its debt');
});
