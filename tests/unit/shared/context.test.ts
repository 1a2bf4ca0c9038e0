import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CONTEXT_LIMITS, contextText, contextValueProblem, readUser, tokenProblem } from '../../../src/shared/context.js';

test('context keys, environments and installation ids are 1–64 plain characters', () => {
  for (const ok of ['production', 'staging-eu.1', 'plan', 'a:b_c-d.e', 'x'.repeat(64), 'c4f1e2d0-0b1a-4c3d-9e8f-001122334455'])
    assert.equal(tokenProblem(ok), undefined, ok);
  for (const bad of ['', 'x'.repeat(65), 'has space', 'a/b', 'ü', 'a=b', '__proto__', 7, undefined, null])
    assert.match(tokenProblem(bad) ?? '', /1–64/, String(bad));
});

test('context values are strings up to the limit, finite numbers and booleans', () => {
  for (const ok of ['', 'pro', 'x'.repeat(CONTEXT_LIMITS.maxValueLength), 0, -1.5, 1e21, true, false])
    assert.equal(contextValueProblem(ok), undefined, String(ok));
  assert.match(contextValueProblem('x'.repeat(CONTEXT_LIMITS.maxValueLength + 1)) ?? '', /at most 500/);
  for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, null, undefined, {}, [], 10n])
    assert.match(contextValueProblem(bad) ?? '', /string, a finite number or a boolean/);
  assert.deepEqual([contextText('pro'), contextText(5), contextText(1.5), contextText(true)], ['pro', '5', '1.5', 'true']);
});

test('a user is { id, name?, email? } of bounded strings; the copy keeps only those fields', () => {
  assert.deepEqual(readUser({ id: 'u-1', name: 'Ada', email: 'ada@example.com', role: 'admin' }), { id: 'u-1', name: 'Ada', email: 'ada@example.com' });
  assert.deepEqual(readUser({ id: 'u-1' }), { id: 'u-1' });
  assert.match(readUser({ name: 'no id' }) as string, /^id must be/);
  assert.match(readUser({ id: '' }) as string, /^id must be a non-empty string/);
  assert.match(readUser({ id: 42 }) as string, /^id must be/);
  assert.match(readUser({ id: 'u', email: 'x'.repeat(321) }) as string, /^email .*at most 320/);
  assert.match(readUser({ id: 'u', name: 3 }) as string, /^name must be/);
  for (const bad of [null, 'u-1', ['u-1']]) assert.match(readUser(bad) as string, /must be an object/);
});
