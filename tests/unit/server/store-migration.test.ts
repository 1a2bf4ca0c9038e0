/**
 * The current schema (version 4 added the session context) over a database a version-2 collector
 * wrote, for both stores: its sessions are kept, read back, and take part in the new filters.
 */

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { StoreConfig } from '../../../src/server/config.js';
import type { Db } from '../../../src/server/store/db.js';
import { openStore } from '../../../src/server/store/open.js';
import { openPostgresDb } from '../../../src/server/store/postgres-db.js';
import { MIGRATIONS, migrationStatements } from '../../../src/server/store/schema.js';
import { openSqliteDb } from '../../../src/server/store/sqlite-db.js';
import { startPostgres, type TestPostgres } from '../../support/postgres.js';
import { makeSummary } from './fixtures.js';

/** Creates the version-2 schema and one session row as the version-2 store wrote it. */
const writeVersion2 = async (db: Db): Promise<string> => {
  const s = makeSummary({ product: 'old', startedAt: Date.UTC(2025, 0, 1) });
  await db.tx(async (q) => {
    await q.run('CREATE TABLE ferry_schema (version INTEGER NOT NULL)');
    for (const m of migrationStatements(0).slice(0, 2)) for (const st of m.statements) await q.run(st);
    await q.run('INSERT INTO ferry_schema (version) VALUES (2)');
    await q.run(
      `INSERT INTO sessions (id, product, application, version, status, started_at, clock_offset_ms, worst, n_critical, n_error, n_warning,
        n_information, n_verbose, message_count, summary, received_at, source, last_seq)
       VALUES (?, ?, ?, ?, ?, ?, 0, 3, 0, 0, 0, 3, 0, 3, ?, ?, 'agent', 3)`,
      [s.id, s.product, s.application, s.version, s.status, s.startedAt, JSON.stringify(s), Date.now()],
    );
  });
  await db.close();
  return s.id;
};

const migrates = async (cfg: StoreConfig, dir: string, id: string): Promise<void> => {
  const store = await openStore(cfg, dir);
  try {
    const version = await store.db.all<{ version: number }>('SELECT version FROM ferry_schema');
    assert.equal(Number(version[0].version), MIGRATIONS.length);
    assert.equal((await store.getSession(id))?.summary.product, 'old', 'the old session is kept');
    const all = await store.listSessions({ product: 'old', limit: 10 });
    assert.deepEqual(
      all.sessions.map((s) => s.summary.id),
      [id],
    );
    assert.deepEqual((await store.listSessions({ product: 'old', limit: 10, environment: 'production' })).sessions, [], 'it has no environment');
    const fresh = makeSummary({ product: 'old', environment: 'production', context: { plan: 'pro' } });
    await store.saveSummaries([{ summary: fresh, startedAt: fresh.startedAt, clockOffsetMs: 0, receivedAt: Date.now() }]);
    assert.deepEqual(
      (await store.listSessions({ product: 'old', limit: 10, environment: 'production', context: [['plan', 'pro']] })).sessions.map((s) => s.summary.id),
      [fresh.id],
    );
  } finally {
    await store.close();
  }
};

const dirs: string[] = [];
const tempDir = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'ferry-migrate-'));
  dirs.push(d);
  return d;
};
let pg: TestPostgres | undefined;
before(async () => {
  pg = await startPostgres();
});
after(async () => {
  await pg?.stop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

test('embedded store: a version-2 database migrates to the current version and keeps its sessions', async () => {
  const dir = tempDir();
  const id = await writeVersion2(openSqliteDb(join(dir, 'ferry.db')));
  await migrates({ kind: 'sqlite' }, dir, id);
});

test('PostgreSQL store: a version-2 database migrates to the current version and keeps its sessions', async () => {
  const url = await pg!.createDatabase('ferry_v2');
  const id = await writeVersion2(openPostgresDb(url, 2));
  await migrates({ kind: 'postgres', url, poolSize: 2 }, tempDir(), id);
});
