/**
 * The compiled collector as an operator runs it: `npm run build:collector`, then
 * `ferry-collector check-config | migrate | start` as processes of plain node (no tsx), on
 * SQLite and on PostgreSQL.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { PATHS } from '../../../src/shared/protocol.js';
import { startPostgres, type TestPostgres } from '../../support/postgres.js';
import { makeSummary } from './fixtures.js';
import { ADMIN, KEYS } from './harness.js';
import { COLLECTOR_BIN, spawnCollector } from './spawn.js';

const ROOT = resolve(import.meta.dirname, '../../..');

const run = (args: string[], o: { cwd: string; env?: Record<string, string> }): Promise<{ code: number; stdout: string; stderr: string }> =>
  new Promise((res) => {
    // A clean environment but PATH: nothing of the test runner's (no tsx loader) reaches the bin.
    execFile(process.execPath, [COLLECTOR_BIN, ...args], { cwd: o.cwd, env: { PATH: process.env.PATH ?? '', ...o.env } }, (err, stdout, stderr) =>
      res({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });

const products = { demo: { policy: 'all', keys: [{ key: KEYS.all, origins: ['*'] }] } };

const walk = (d: string): string[] => readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(d, e.name)) : [join(d, e.name)]));

describe('the compiled collector (ferry-collector)', () => {
  let dir: string;
  let pg: TestPostgres;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ferry-bin-'));
    const build = new Promise<void>((res, rej) =>
      execFile(process.execPath, [join(ROOT, 'scripts/build-collector.mjs')], { cwd: ROOT }, (e, _o, se) => (e ? rej(new Error(se)) : res())),
    );
    [, pg] = await Promise.all([build, startPostgres()]);
  });
  after(async () => {
    await pg?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('the build is plain JavaScript with the viewer beside it, and the package names the bin and its dependencies', () => {
    const files = walk(join(ROOT, 'collector/dist'));
    assert.ok(files.some((f) => f.endsWith('server/cli.js')));
    assert.ok(files.some((f) => f.endsWith('server/viewer/index.html')));
    assert.equal(files.filter((f) => f.endsWith('.ts')).length, 0, 'no TypeScript at run time');
    const pkg = JSON.parse(readFileSync(join(ROOT, 'collector/package.json'), 'utf8')) as { bin: Record<string, string>; dependencies: Record<string, string> };
    assert.equal(pkg.bin['ferry-collector'], './bin/ferry-collector.js');
    for (const dep of ['hono', '@hono/node-server', '@tus/server', 'better-sqlite3', 'pg', '@aws-sdk/client-s3', 'nodemailer'])
      assert.ok(pkg.dependencies[dep], dep);
  });

  test('check-config: 0 with the effective config (secrets masked), 2 naming the bad field', async () => {
    const file = join(dir, 'good.json');
    writeFileSync(file, JSON.stringify({ adminTokens: [ADMIN], products, store: { kind: 'postgres', url: 'postgres://ferry:hunter2@db/ferry' } }));
    const ok = await run(['check-config', '--config', file], { cwd: dir });
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stderr, /config OK \(store postgres, blobs files, 1 product\)/);
    const printed = JSON.parse(ok.stdout) as { adminTokens: string[]; store: { url: string }; products: { demo: { keys: { key: string }[] } } };
    assert.deepEqual(printed.adminTokens, ['***']);
    assert.equal(printed.store.url, 'postgres://ferry:***@db/ferry');
    assert.equal(printed.products.demo.keys[0].key, '***');
    assert.ok(!ok.stdout.includes(ADMIN) && !ok.stdout.includes('hunter2'));

    writeFileSync(join(dir, 'bad.json'), JSON.stringify({ limits: { uploadBytes: -1 } }));
    const bad = await run(['check-config', '--config', 'bad.json'], { cwd: dir });
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /limits\.uploadBytes: must be between/);
    const envBad = await run(['check-config'], { cwd: dir, env: { FERRY_RATE_LIMIT__BURST: 'lots' } });
    assert.equal(envBad.code, 2);
    assert.match(envBad.stderr, /FERRY_RATE_LIMIT__BURST must be an integer/);
    assert.equal((await run(['frobnicate'], { cwd: dir })).code, 2);
  });

  test('migrate on SQLite and PostgreSQL: migrates once, then says it is current', async () => {
    const sqlite = { FERRY_DATA_DIR: join(dir, 'sqlite-data') };
    const first = await run(['migrate'], { cwd: dir, env: sqlite });
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stderr, /schema migrated from version 0 to \d+/);
    assert.match((await run(['migrate'], { cwd: dir, env: sqlite })).stderr, /schema already at version \d+/);
    assert.ok(existsSync(join(dir, 'sqlite-data', 'ferry.db')));

    const pgEnv = { FERRY_STORE__KIND: 'postgres', FERRY_STORE__URL: pg.url };
    const m = await run(['migrate'], { cwd: dir, env: pgEnv });
    assert.equal(m.code, 0, m.stderr);
    assert.match(m.stderr, /schema migrated from version 0 to \d+/);
    const connect = await run(['check-config', '--connect'], { cwd: dir, env: pgEnv });
    assert.equal(connect.code, 0, connect.stderr);
    assert.match(connect.stderr, /database reachable \(schema (\d+) of \1\)/);
  });

  test('start on PostgreSQL without migrating at start (after migrate): ready, takes summaries, stops on SIGTERM', async () => {
    const d = mkdtempSync(join(dir, 'pg-'));
    const p = await spawnCollector(d, { adminTokens: [ADMIN], products, store: { kind: 'postgres', url: pg.url }, migrateOnStart: false }, { compiled: true });
    try {
      const ready = await fetch(`${p.url}/ready`);
      assert.equal(ready.status, 200);
      assert.equal(((await ready.json()) as { store: string }).store, 'postgres');
      const res = await fetch(`${p.url}${PATHS.summaries}`, {
        method: 'POST',
        headers: { authorization: `Ferry ${KEYS.all}`, 'content-type': 'application/json' },
        body: JSON.stringify({ product: 'demo', sentAt: Date.now(), sessions: [makeSummary()] }),
      });
      assert.equal(res.status, 200);
      const metrics = await fetch(`${p.url}/metrics`, { headers: { authorization: `Bearer ${ADMIN}` } });
      assert.match(await metrics.text(), /ferry_http_requests_total\{route="[^"]+summaries",method="POST",status="200"\} 1/);
    } finally {
      assert.deepEqual(await p.kill('SIGTERM'), { code: 0, signal: null });
    }
  });

  test('start on SQLite: health, the viewer from the compiled files', async () => {
    const d = mkdtempSync(join(dir, 'sqlite-'));
    const p = await spawnCollector(d, { adminTokens: [ADMIN], products }, { compiled: true });
    try {
      assert.equal((await fetch(`${p.url}/health`)).status, 200);
      const viewer = await fetch(`${p.url}/viewer/`);
      assert.equal(viewer.status, 200);
      assert.match(await viewer.text(), /<html/i);
    } finally {
      assert.deepEqual(await p.kill('SIGTERM'), { code: 0, signal: null });
    }
  });
});
