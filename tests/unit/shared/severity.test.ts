import assert from 'node:assert/strict';
import { test } from 'node:test';
import { emptyCounts, isSeverity, severityRank, worstSeverity } from '../../../src/shared/severity.js';

test('severity ranks order critical above verbose', () => {
  assert.ok(severityRank('critical') > severityRank('error'));
  assert.ok(severityRank('warning') > severityRank('information'));
  assert.equal(isSeverity('info'), false);
  const c = emptyCounts();
  assert.equal(worstSeverity(c), undefined);
  c.warning = 2;
  c.verbose = 1;
  assert.equal(worstSeverity(c), 'warning');
});
