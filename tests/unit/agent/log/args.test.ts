import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_CATEGORY, readLogArgs } from '../../../../src/agent/log/args.js';

test('two strings first: Loupe form (category, text, details); an Error as details is the exception', () => {
  const err = new Error('x');
  assert.deepEqual(readLogArgs('Sync', 'saved', { id: 1 }), { category: 'Sync', text: 'saved', details: { id: 1 }, exception: undefined });
  assert.deepEqual(readLogArgs('Sync', 'failed', err), { category: 'Sync', text: 'failed', details: undefined, exception: err });
});

test('otherwise JavaScript form (text, details) under the default category; an Error anywhere is the exception', () => {
  const err = new Error('boom');
  assert.deepEqual(readLogArgs('Something broke', undefined, undefined), {
    category: DEFAULT_CATEGORY,
    text: 'Something broke',
    details: undefined,
    exception: undefined,
  });
  assert.deepEqual(readLogArgs(err, { id: 2 }, undefined), { category: DEFAULT_CATEGORY, text: 'boom', details: { id: 2 }, exception: err });
  assert.deepEqual(readLogArgs('Save failed', err, { attempt: 3 }), {
    category: DEFAULT_CATEGORY,
    text: 'Save failed',
    details: { attempt: 3 },
    exception: err,
  });
  assert.deepEqual(readLogArgs('Save failed', { id: 4 }, err), { category: DEFAULT_CATEGORY, text: 'Save failed', details: { id: 4 }, exception: err });
  assert.deepEqual(readLogArgs(42, { not: 'a string' }, undefined), {
    category: DEFAULT_CATEGORY,
    text: 42,
    details: { not: 'a string' },
    exception: undefined,
  });
});

test('a logger bound to a category always reads (text, details), even when both are strings', () => {
  assert.deepEqual(readLogArgs('slow', 'extra', undefined, 'Http'), { category: 'Http', text: 'slow', details: 'extra', exception: undefined });
});
