import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type CriteriaSession, checkCriteria, matchesCriteria } from '../../../../src/core/package/criteria.js';
import { emptyCounts } from '../../../../src/shared/severity.js';

const s = (id: string, over: Partial<CriteriaSession> = {}): CriteriaSession => ({
  id,
  product: 'acme',
  application: 'editor',
  status: 'ended',
  counts: emptyCounts(),
  lastSeq: 3,
  ...over,
});

const scope = { product: 'acme', activeSessionId: 'me' };

test('each criterion matches what the Loupe packager documents', () => {
  const crashed = s('c', { status: 'crashed' });
  const ended = s('e');
  const sent = s('sent', { delivery: { detailState: 'sent', sentSeq: 3 } });
  const packaged = s('pk', { delivery: { packagedAt: 5, packagedSeq: 3 } });
  // Packaged (or sent) while it ran, with more logged since: what came later is still new.
  const grownSincePackaged = s('pg', { delivery: { packagedAt: 5, packagedSeq: 2 } });
  const partlySent = s('ps', { delivery: { detailState: 'partial', sentSeq: 2 } });
  const warn = s('w', { counts: { ...emptyCounts(), warning: 1 } });
  const err = s('x', { counts: { ...emptyCounts(), error: 2 } });
  const crit = s('k', { counts: { ...emptyCounts(), critical: 1 } });
  const m = (x: CriteriaSession, c: Parameters<typeof matchesCriteria>[1]) => matchesCriteria(x, c, scope);
  assert.deepEqual(
    [crashed, ended].map((x) => m(x, ['completed'])),
    [true, true],
  );
  assert.deepEqual(
    [crashed, ended].map((x) => m(x, ['crashed'])),
    [true, false],
  );
  assert.deepEqual(
    [ended, sent, packaged, s('d', { delivery: { detailState: 'sent' } })].map((x) => m(x, ['new'])),
    [true, false, false, false],
  );
  assert.deepEqual(
    [grownSincePackaged, partlySent].map((x) => m(x, ['new'])),
    [true, true],
  );
  assert.deepEqual(
    [warn, err, crit, ended].map((x) => m(x, ['warning'])),
    [true, false, false, false],
  );
  assert.deepEqual(
    [warn, err, crit, ended].map((x) => m(x, ['error'])),
    [false, true, false, false],
  );
  assert.deepEqual(
    [warn, err, crit, ended].map((x) => m(x, ['critical'])),
    [false, false, true, false],
  );
  assert.equal(m(ended, ['active']), false);
});

test('running sessions match only as the active session; criteria combine as a union', () => {
  const mine = s('me', { status: 'running', counts: { ...emptyCounts(), error: 1 } });
  const otherTab = s('live', { status: 'running', counts: { ...emptyCounts(), critical: 3 } });
  assert.equal(matchesCriteria(mine, ['active'], scope), true);
  assert.equal(matchesCriteria(mine, ['error', 'new', 'completed'], scope), false);
  assert.equal(matchesCriteria(otherTab, ['critical', 'error', 'warning', 'new', 'completed', 'crashed', 'active'], scope), false);
  const crashed = s('c', { status: 'crashed' });
  assert.equal(matchesCriteria(crashed, ['error', 'crashed'], scope), true);
  assert.equal(matchesCriteria(crashed, ['error', 'warning'], scope), false);
});

test('product always filters; application only when given', () => {
  const viewer = s('v', { application: 'viewer' });
  assert.equal(matchesCriteria(viewer, ['completed'], scope), true);
  assert.equal(matchesCriteria(viewer, ['completed'], { ...scope, application: 'editor' }), false);
  assert.equal(matchesCriteria(viewer, ['completed'], { ...scope, application: 'viewer' }), true);
  assert.equal(matchesCriteria(s('o', { product: 'other' }), ['completed'], scope), false);
  // The active session of another application is out when the filter names this one.
  assert.equal(matchesCriteria(s('me', { status: 'running', application: 'viewer' }), ['active'], { ...scope, application: 'editor' }), false);
});

test('criteria from app code are checked', () => {
  assert.deepEqual(checkCriteria(['new', 'active', 'new']), ['new', 'active']);
  assert.throws(() => checkCriteria([]), /non-empty array/);
  assert.throws(() => checkCriteria('new'), /non-empty array/);
  assert.throws(() => checkCriteria(['new', 'errors']), /"errors" is not one of/);
});
