/** A collector without adminTokens: its generated token goes to a 0600 file, never to the log. */
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { adminTokenFromFile } from '../../../src/server/admin-token.js';
import { startCollector } from '../../../src/server/collector.js';
import { createLogger } from '../../../src/server/log.js';
import { ADMIN_PATHS } from '../../../src/shared/protocol.js';
import { until } from '../../support/browser.js';
import { baseConfig } from './harness.js';

const start = async (dir: string) => {
  const lines: string[] = [];
  const log = createLogger({ level: 'debug', write: (l) => lines.push(l) });
  const c = await startCollector(baseConfig(dir, { adminTokens: [] }), { log, listen: false });
  // tus's FileStore creates its directory in the background; the test deletes dir afterwards.
  await until(() => existsSync(join(dir, 'uploads')), 'the uploads directory');
  return { c, lines };
};

const asAdmin = (token: string) => new Request(`http://localhost${ADMIN_PATHS.sessions}`, { headers: { authorization: `Bearer ${token}` } });

test('the generated admin token is written to <dataDir>/admin-token (0600), only its path is logged, and it is kept across restarts', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-token-'));
  try {
    const first = await start(dir);
    const file = join(dir, 'admin-token');
    const token = readFileSync(file, 'utf8').trim();
    try {
      assert.match(token, /^[\w-]{32}$/);
      assert.equal(statSync(file).mode & 0o777, 0o600);
      assert.ok(!first.lines.some((l) => l.includes(token)), 'the token is not in the log');
      const told = first.lines.map((l) => JSON.parse(l) as { msg: string; adminTokenFile?: string }).find((r) => r.adminTokenFile);
      assert.equal(told?.adminTokenFile, file);
      assert.equal((await first.c.app.fetch(asAdmin(token))).status, 200, 'the token in the file opens the read API');
    } finally {
      await first.c.close();
    }
    rmSync(join(dir, 'uploads'), { recursive: true }); // so that start() sees the new collector's own
    const second = await start(dir);
    try {
      assert.equal((await second.c.app.fetch(asAdmin(token))).status, 200, 'the same token after a restart');
      assert.ok(!second.lines.some((l) => l.includes(token)));
    } finally {
      await second.c.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a token file with loose permissions is tightened; one without a valid token is replaced', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-token-'));
  try {
    const file = join(dir, 'admin-token');
    writeFileSync(file, 'a-token-copied-in-by-hand-0001\n');
    chmodSync(file, 0o644);
    const read = await adminTokenFromFile(dir);
    assert.deepEqual(read, { token: 'a-token-copied-in-by-hand-0001', file, created: false });
    assert.equal(statSync(file).mode & 0o777, 0o600);
    writeFileSync(file, 'short\n');
    const replaced = await adminTokenFromFile(dir);
    assert.equal(replaced.created, true);
    assert.notEqual(replaced.token, 'short');
    assert.equal(readFileSync(file, 'utf8').trim(), replaced.token);
    assert.equal(statSync(file).mode & 0o777, 0o600);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
