import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { StoreConfig } from '../config.js';
import { createBlobStore } from './blobs.js';
import type { Db } from './db.js';
import { openPostgresDb } from './postgres-db.js';
import { migrationStatements } from './schema.js';
import { createSqlStore } from './sql-store.js';
import { openSqliteDb } from './sqlite-db.js';
import type { Store } from './types.js';

// An arbitrary constant: the advisory lock replicas take while migrating at start-up.
const MIGRATION_LOCK = 7_234_001;

const migrate = async (db: Db): Promise<void> => {
  await db.tx(async (q) => {
    if (db.dialect === 'postgres') await q.all('SELECT pg_advisory_xact_lock(?)', [MIGRATION_LOCK]);
    await q.run('CREATE TABLE IF NOT EXISTS ferry_schema (version INTEGER NOT NULL)');
    const rows = await q.all<{ version: number }>('SELECT version FROM ferry_schema');
    const current = rows[0] ? Number(rows[0].version) : 0;
    if (!rows[0]) await q.run('INSERT INTO ferry_schema (version) VALUES (0)');
    for (const m of migrationStatements(current, db.dialect)) {
      for (const st of m.statements) await q.run(st);
      await q.run('UPDATE ferry_schema SET version = ?', [m.version]);
    }
  });
};

/**
 * Opens the configured store: the embedded SQLite database in `<dataDir>/ferry.db`, or
 * PostgreSQL; blobs go to `<dataDir>/blobs` in both cases (shared storage for replicas).
 */
export const openStore = async (cfg: StoreConfig, dataDir: string): Promise<Store & { db: Db }> => {
  mkdirSync(dataDir, { recursive: true });
  const blobs = await createBlobStore(join(dataDir, 'blobs'));
  const db = cfg.kind === 'sqlite' ? openSqliteDb(join(dataDir, 'ferry.db')) : openPostgresDb(cfg.url, cfg.poolSize);
  try {
    await migrate(db);
  } catch (e) {
    await db.close().catch(() => {});
    throw e;
  }
  return Object.assign(createSqlStore(db, blobs), { db });
};
