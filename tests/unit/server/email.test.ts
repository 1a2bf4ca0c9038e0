import assert from 'node:assert/strict';
import { test } from 'node:test';
import { packageBody } from '../../../src/server/email.js';
import { makeManifest, makeSummary } from './fixtures.js';

test('the email body lists each session’s environment, user and context tags when it has them', () => {
  const tagged = makeSummary({ environment: 'production', user: { id: 'u-1', name: 'Ada' }, context: { plan: 'pro', seats: 5 } });
  const plain = makeSummary();
  const body = packageBody(makeManifest([tagged, plain]), 'f'.repeat(64));
  const lines = body.split('\n');
  const at = lines.findIndex((l) => l.includes(tagged.id));
  assert.equal(lines[at + 1], `  ${tagged.url}`);
  assert.equal(lines[at + 2], '  environment production; user u-1 (Ada); context plan=pro, seats=5');
  const next = lines.findIndex((l) => l.includes(plain.id));
  assert.equal(lines[next + 1], `  ${plain.url}`);
  assert.ok(lines[next + 2] === undefined || !lines[next + 2].startsWith('  environment'), 'nothing for a session without context');
});
