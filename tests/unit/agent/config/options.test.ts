import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULTS, findProblems, mergeOptions, resolveOptions } from '../../../../src/agent/config/options.js';

test('init options: required identity, each bad option named', () => {
  assert.throws(
    () => resolveOptions({} as never),
    (e: unknown) => e instanceof TypeError && /product/.test(e.message) && /application/.test(e.message) && /version/.test(e.message),
  );
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
  assert.deepEqual(bad.map((p) => p.split(':')[0]).sort(), [
    'beforeLog',
    'capture',
    'colour',
    'server.autoSendSessions',
    'server.url',
    'storage.maxLocalBytes',
  ]);
  const o = resolveOptions({ product: ' p ', application: 'a', version: '1', server: { url: 'https://c.example', ingestKey: 'k' } });
  assert.equal(o.product, 'p');
  assert.equal(o.server.autoSendSessions, DEFAULTS.server.autoSendSessions);
  assert.equal(o.server.url, 'https://c.example');
  assert.equal(o.storage.maxLocalBytes, 50 * 1024 * 1024);
  const changed = mergeOptions(o, { server: { autoSendSessions: true } });
  assert.equal(changed.server.autoSendSessions, true);
  assert.equal(changed.server.url, 'https://c.example', 'a partial change keeps the other fields');
});

test('names follow the collector’s rule (shared/limits.ts): "Acme Suite" is fine, control characters and 101 characters are not', () => {
  const id = { application: 'Editor', version: '4.2.0' };
  assert.deepEqual(findProblems({ product: 'Acme Suite', ...id }), []);
  assert.deepEqual(findProblems({ product: '  Acme Suite  ', ...id }), [], 'surrounding white space is trimmed first');
  assert.equal(resolveOptions({ product: '  Acme Suite  ', ...id }).product, 'Acme Suite');
  const problems = (o: Record<string, unknown>) => findProblems({ product: 'Acme Suite', ...id, ...o });
  assert.match(problems({ product: 'Acme\nSuite' }).join(), /^product: must not contain control characters/);
  assert.match(problems({ product: 'x'.repeat(101) }).join(), /^product: must have at most 100 characters/);
  assert.match(problems({ application: '' }).join(), /^application: must not be empty/);
  assert.match(problems({ version: 4 }).join(), /^version: required, a name of 1–100 characters \(got number\)/);
});

test('session context options: environment is a plain token, privacy defaults cut the URL, beforeSummary is a function', () => {
  const base = { product: 'p', application: 'a', version: '1' };
  assert.deepEqual(findProblems({ ...base, environment: 'production', beforeSummary: () => null, privacy: { keepUrlQuery: true } }), []);
  assert.deepEqual(
    findProblems({ ...base, environment: 'prod eu', beforeSummary: 'scrub', privacy: { keepUrlQuery: 'yes', keepHash: true } })
      .map((p) => p.split(':')[0])
      .sort(),
    ['beforeSummary', 'environment', 'privacy.keepHash', 'privacy.keepUrlQuery'],
  );
  assert.match(findProblems({ ...base, environment: 'x'.repeat(65) })[0], /^environment: must be 1–64 letters/);
  const o = resolveOptions(base);
  assert.deepEqual(o.privacy, { keepUrlQuery: false, keepUrlFragment: false });
  assert.equal(o.environment, undefined);
  const hook = () => undefined;
  const withContext = resolveOptions({ ...base, environment: 'staging', beforeSummary: hook, privacy: { keepUrlFragment: true } });
  assert.equal(withContext.environment, 'staging');
  assert.equal(withContext.beforeSummary, hook);
  assert.deepEqual(withContext.privacy, { keepUrlQuery: false, keepUrlFragment: true });
  assert.equal(mergeOptions(withContext, { beforeSummary: undefined }).beforeSummary, undefined, 'configure can remove the hook');
});
