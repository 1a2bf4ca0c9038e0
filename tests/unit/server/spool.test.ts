// The package spool's start-up sweep: a crash's leftovers go, a live request's folder stays (replicas
// sharing a dataDir on a shared file system each have live folders under the same root).
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { sweepSpool } from '../../../src/server/package/spool.js';

test('the spool sweep removes request folders older than any request, and keeps recent ones', async () => {
  const root = mkdtempSync(join(tmpdir(), 'ferry-spool-'));
  try {
    for (const name of ['crashed', 'live']) {
      mkdirSync(join(root, name));
      writeFileSync(join(root, name, 'body'), 'x');
    }
    const twoHoursAgo = new Date(Date.now() - 2 * 60 * 60_000);
    utimesSync(join(root, 'crashed'), twoHoursAgo, twoHoursAgo);
    assert.equal(await sweepSpool(root), 1);
    assert.deepEqual(readdirSync(root), ['live']);
    assert.equal(await sweepSpool(join(root, 'absent')), 0, 'no spool folder yet is not an error');
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
