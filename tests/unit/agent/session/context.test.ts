import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { SessionRecord } from '../../../../src/core/db/schema.js';

// The agent's warnings go through the console.warn it captured when monitor.ts loaded: record
// them by replacing console.warn before the agent modules are imported.
const warnings: string[] = [];
const realWarn = console.warn;
console.warn = (...args: unknown[]) => void warnings.push(args.map(String).join(' '));
const { createContextState } = await import('../../../../src/agent/session/context.js');
const { resolveOptions } = await import('../../../../src/agent/config/options.js');
const { newSessionRecord } = await import('../../../../src/agent/session/record.js');
console.warn = realWarn;

type Options = Parameters<typeof resolveOptions>[0];
const options = (over: Partial<Options> = {}) => resolveOptions({ product: 'p', application: 'a', version: '1', ...over });
const record = (): SessionRecord => ({ ...newSessionRecord(options(), 1_700_000_000_000), url: 'https://app.example.com/page', userAgent: 'UA/1' });
const described = (r: SessionRecord) => ({
  url: r.url,
  userAgent: r.userAgent,
  environment: r.environment,
  installationId: r.installationId,
  user: r.user,
  context: r.context,
});
const warned = (re: RegExp): boolean => warnings.some((w) => re.test(w));

test('setUser keeps a valid user (numeric ids as text), clears on null, ignores anything else with a warning', () => {
  const c = createContextState();
  let changes = 0;
  c.onChange(() => changes++);
  const r = record();
  const describe = () => c.describe(r, options(), undefined);
  c.setUser({ id: 'u-1', name: 'Ada', email: 'ada@example.com' });
  describe();
  assert.deepEqual(r.user, { id: 'u-1', name: 'Ada', email: 'ada@example.com' });
  c.setUser({ id: 42 });
  describe();
  assert.deepEqual(r.user, { id: '42' });
  c.setUser({ id: '', name: 'nobody' });
  assert.ok(warned(/setUser\(\) ignored: id must be a non-empty string/));
  c.setUser('u-2');
  c.setUser({ id: Number.NaN });
  describe();
  assert.deepEqual(r.user, { id: '42' }, 'refused calls change nothing');
  assert.equal(changes, 2);
  c.setUser(null);
  describe();
  assert.equal('user' in r, false);
  assert.equal(changes, 3);
});

test('setContext sets and removes tags, refusing bad keys, bad values and a tag past the limit', () => {
  const c = createContextState();
  const r = record();
  c.setContext('plan', 'pro');
  c.setContext('seats', 5);
  c.setContext('beta', true);
  c.setContext('bad key', 'x');
  c.setContext('obj', { a: 1 });
  c.setContext('long', 'x'.repeat(501));
  c.describe(r, options(), undefined);
  assert.deepEqual(r.context, { plan: 'pro', seats: 5, beta: true });
  assert.ok(warned(/setContext\("bad key"\) ignored: must be 1–64/));
  assert.ok(warned(/setContext\("obj"\) ignored: must be a string, a finite number or a boolean/));
  assert.ok(warned(/setContext\("long"\) ignored: must have at most 500 characters/));
  c.setContext('seats', undefined);
  c.setContext('beta', null);
  c.describe(r, options(), undefined);
  assert.deepEqual(r.context, { plan: 'pro' });
  for (let i = 1; i < 50; i++) c.setContext(`k${i}`, i);
  c.setContext('one-too-many', 1);
  c.setContext('plan', 'team');
  c.describe(r, options(), undefined);
  const tags: Record<string, unknown> = r.context ?? {};
  assert.equal(Object.keys(tags).length, 50);
  assert.equal(tags.plan, 'team', 'an existing tag still changes at the limit');
  assert.equal(tags['one-too-many'], undefined);
  assert.ok(warned(/setContext\("one-too-many"\) ignored: more than 50 tags/));
  c.setContext('toString', 'x');
  c.describe(r, options(), undefined);
  assert.equal(Object.hasOwn(r.context ?? {}, 'toString'), false, 'an inherited name is not taken for an existing tag: refused at the limit');
  c.clear();
  c.describe(r, options(), undefined);
  assert.equal('context' in r, false, 'no tags, no field');
});

test('describe puts environment, installation id, user and tags on the record, and nothing when there are none', () => {
  const c = createContextState();
  const r = record();
  c.describe(r, options(), undefined);
  assert.deepEqual(described(r), {
    url: 'https://app.example.com/page',
    userAgent: 'UA/1',
    environment: undefined,
    installationId: undefined,
    user: undefined,
    context: undefined,
  });
  assert.deepEqual(
    ['environment', 'installationId', 'user', 'context'].filter((k) => k in r),
    [],
  );
  c.setUser({ id: 'u-1' });
  c.setContext('plan', 'pro');
  c.describe(r, options({ environment: 'staging' }), 'inst-1');
  assert.deepEqual(described(r), {
    url: 'https://app.example.com/page',
    userAgent: 'UA/1',
    environment: 'staging',
    installationId: 'inst-1',
    user: { id: 'u-1' },
    context: { plan: 'pro' },
  });
});

test('beforeSummary edits the descriptive fields only, in place or by returning a copy, always from the original values', () => {
  const c = createContextState();
  c.setUser({ id: 'u-1', email: 'ada@example.com' });
  c.setContext('plan', 'pro');
  c.setContext('ssn', '123');
  const r = record();
  const seen: string[] = [];
  const o = options({
    environment: 'production',
    beforeSummary: (s) => {
      seen.push(s.url);
      s.url = s.url.replace('/page', '/:page');
      delete s.user?.email;
      delete s.context?.ssn;
      s.counts.error = 99;
      s.id = 'not-mine';
      s.product = 'other';
    },
  });
  c.describe(r, o, 'inst-1');
  assert.deepEqual(described(r), {
    url: 'https://app.example.com/:page',
    userAgent: 'UA/1',
    environment: 'production',
    installationId: 'inst-1',
    user: { id: 'u-1' },
    context: { plan: 'pro' },
  });
  assert.equal(r.counts.error, 0, 'counts are the agent’s own');
  assert.equal(r.product, 'p');
  assert.notEqual(r.id, 'not-mine');
  c.setContext('plan', 'team');
  c.describe(r, o, 'inst-1');
  assert.deepEqual(seen, ['https://app.example.com/page', 'https://app.example.com/page'], 'the hook sees the URL the session started with, not what it left');
  assert.deepEqual(r.context, { plan: 'team' });

  const returned = options({ beforeSummary: (s) => ({ ...s, userAgent: 'scrubbed', installationId: undefined, context: { ...s.context, added: 1 } }) });
  c.describe(r, returned, 'inst-1');
  assert.equal(r.userAgent, 'scrubbed');
  assert.equal('installationId' in r, false, 'a field the hook removed is gone');
  assert.deepEqual(r.context, { plan: 'team', ssn: '123', added: 1 });
});

test('beforeSummary returning null, throwing or returning junk keeps none of its fields; invalid values it returns are left out', () => {
  const c = createContextState();
  c.setUser({ id: 'u-1' });
  c.setContext('plan', 'pro');
  const blank = { url: '', userAgent: '', environment: undefined, installationId: undefined, user: undefined, context: undefined };
  for (const hook of [
    () => null,
    () => 'yes',
    () => {
      throw new Error('scrubber broke');
    },
  ]) {
    const r = record();
    c.describe(r, options({ environment: 'production', beforeSummary: hook as never }), 'inst-1');
    assert.deepEqual(described(r), blank);
    assert.equal(r.messageCount, 0, 'the session itself is kept');
  }
  assert.ok(warned(/beforeSummary failed; the session keeps none of the fields it scrubs/));
  const r = record();
  c.describe(
    r,
    options({
      beforeSummary: (s) =>
        ({
          ...s,
          url: 7,
          userAgent: 'u'.repeat(1500),
          environment: 'not valid!',
          user: { name: 'no id' },
          context: { ok: 1, 'bad key': 2, nested: { a: 1 } },
        }) as never,
    }),
    'inst-1',
  );
  assert.equal(r.userAgent.length, 1024, 'cut to what the collector accepts');
  assert.deepEqual(
    { ...described(r), userAgent: undefined },
    { url: '', userAgent: undefined, environment: undefined, installationId: 'inst-1', user: undefined, context: { ok: 1 } },
  );
});
