import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { BlobsConfig, StoreConfig } from '../config.js';
import { type BlobStore, createBlobStore } from './blobs.js';
import type { Db } from './db.js';
import { openPostgresDb } from './postgres-db.js';
import { createS3BlobStore } from './s3-blobs.js';
import { createS3Client } from './s3-client.js';
import { MIGRATIONS, migrationStatements } from './schema.js';
import { createSqlStore } from './sql-store.js';
import { openSqliteDb } from './sqlite-db.js';
import type { Store } from './types.js';

// An arbitrary constant: the advisory lock replicas take while migrating at start-up.
const MIGRATION_LOCK = 7_234_001;

/** Brings the schema to this collector's version (replicas may race: the first one does it). */
export const migrate = async (db: Db): Promise<void> => {
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

/** Blobs in `<dataDir>/blobs`, or in the configured S3 bucket. */
export const openBlobs = async (cfg: BlobsConfig, dataDir: string): Promise<BlobStore> =>
  cfg.kind === 's3' ? createS3BlobStore(createS3Client(cfg), cfg.bucket, cfg.prefix) : createBlobStore(join(dataDir, 'blobs'));

/**
 * Opens the configured store: the embedded SQLite database in `<dataDir>/ferry.db`, or
 * PostgreSQL; blobs go to `<dataDir>/blobs` or to S3 (what replicas share, with PostgreSQL).
 */
export const openStore = async (
  cfg: StoreConfig,
  dataDir: string,
  blobsCfg: BlobsConfig = { kind: 'files' },
  o: { migrate?: boolean } = {},
): Promise<Store & { db: Db }> => {
  mkdirSync(dataDir, { recursive: true });
  const blobs = await openBlobs(blobsCfg, dataDir);
  const db = cfg.kind === 'sqlite' ? openSqliteDb(join(dataDir, 'ferry.db')) : openPostgresDb(cfg.url, cfg.poolSize);
  try {
    if (o.migrate !== false) await migrate(db);
  } catch (e) {
    await db.close().catch(() => {});
    throw e;
  }
  return Object.assign(createSqlStore(db, blobs), { db });
};

/** Whether the database's schema is at this collector's version (readiness: migrations done). */
export const schemaVersion = async (db: Db): Promise<{ current: number; expected: number }> => {
  let rows: { version: number }[] = [];
  try {
    rows = await db.all<{ version: number }>('SELECT version FROM ferry_schema');
  } catch {
    // No schema table: a database never migrated.
  }
  return { current: rows[0] ? Number(rows[0].version) : 0, expected: MIGRATIONS.length };
};
