/**
 * `ferry-collector start | check-config | migrate` (collector/bin, and `npm run server` in a
 * checkout). Exit codes: 0 done, 1 failed, 2 bad config or usage.
 *   start         runs the collector until SIGTERM/SIGINT (graceful; a second signal exits at once)
 *   check-config  validates the config file and FERRY_* variables, prints the effective config
 *                 with secrets masked; `--connect` also reaches the database and blob storage
 *   migrate       brings the database schema to this version and exits
 */

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { AGENT_VERSION } from '../shared/version.js';
import { ADMIN_TOKEN_FILE } from './admin-token.js';
import { startCollector } from './collector.js';
import { type CollectorConfig, ConfigError, loadConfig } from './config.js';
import { createLogger } from './log.js';
import type { Db } from './store/db.js';
import { migrate, openBlobs, schemaVersion } from './store/open.js';
import { openPostgresDb } from './store/postgres-db.js';
import { openSqliteDb } from './store/sqlite-db.js';

const USAGE = `usage: ferry-collector <command> [--config <file>]

commands:
  start          run the collector
  check-config   validate the configuration (file + FERRY_* variables) and print it, secrets masked;
                 --connect also checks the database and the blob storage
  migrate        migrate the database schema and exit

The config file is --config <file>, else $FERRY_CONFIG, else ./ferry.config.json when present.
Every setting is also an environment variable: FERRY_ + its path in UPPER_SNAKE_CASE, levels
joined by __ (rateLimit.perMinute is FERRY_RATE_LIMIT__PER_MINUTE). See docs/operations.md.
`;

const COMMANDS = ['start', 'check-config', 'migrate'];

const out = (s: string): void => {
  process.stdout.write(s.endsWith('\n') ? s : `${s}\n`);
};
const err = (s: string): void => {
  process.stderr.write(`ferry-collector: ${s}\n`);
};

/** The config for printing: tokens, keys, passwords and credentials in URLs masked. */
export const masked = (c: CollectorConfig): unknown =>
  JSON.parse(
    JSON.stringify(c, (k, v: unknown) => {
      if (typeof v === 'string' && /^(secretAccessKey|pass|key)$/.test(k)) return '***';
      if (Array.isArray(v) && /Tokens$/.test(k)) return v.map(() => '***');
      if (k === 'url' && typeof v === 'string') return v.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@');
      return v;
    }),
  );

const openDb = (c: CollectorConfig): Db => {
  mkdirSync(c.dataDir, { recursive: true });
  return c.store.kind === 'sqlite' ? openSqliteDb(join(c.dataDir, 'ferry.db')) : openPostgresDb(c.store.url, 2);
};

const start = async (config: CollectorConfig): Promise<void> => {
  const log = createLogger(config.log);
  process.on('unhandledRejection', (e) => log.error('unhandled rejection', { err: e }));
  const collector = await startCollector(config, { log });
  let stopping = false;
  for (const sig of ['SIGTERM', 'SIGINT'] as const) {
    process.on(sig, () => {
      if (stopping) process.exit(1);
      stopping = true;
      log.info('signal', { signal: sig });
      collector.close().then(
        () => process.exit(0),
        (e: unknown) => {
          log.error('shutdown failed', { err: e });
          process.exit(1);
        },
      );
    });
  }
};

const checkConfig = async (config: CollectorConfig, connect: boolean): Promise<number> => {
  out(JSON.stringify(masked(config), null, 2));
  const products = Object.keys(config.products).length;
  if (products === 0) err('warning: no products configured: every ingest request will get 401');
  if (config.adminTokens.length === 0)
    err(
      `warning: no adminTokens: one is generated into ${join(config.dataDir, ADMIN_TOKEN_FILE)} (mode 0600) at the first start and read from it after (the viewer needs it; replicas need adminTokens)`,
    );
  if (!connect) {
    err(`config OK (store ${config.store.kind}, blobs ${config.blobs.kind}, ${products} product${products === 1 ? '' : 's'})`);
    return 0;
  }
  const db = openDb(config);
  try {
    const v = await schemaVersion(db);
    const blobs = await openBlobs(config.blobs, config.dataDir);
    await blobs.ping();
    err(`config OK; database reachable (schema ${v.current} of ${v.expected}${v.current < v.expected ? ': run migrate' : ''}), blob storage reachable`);
    return 0;
  } catch (e) {
    err(`cannot reach the store: ${(e as Error).message}`);
    return 1;
  } finally {
    await db.close();
  }
};

const runMigrate = async (config: CollectorConfig): Promise<number> => {
  const db = openDb(config);
  try {
    const before = await schemaVersion(db);
    await migrate(db);
    const after = await schemaVersion(db);
    err(before.current === after.current ? `schema already at version ${after.current}` : `schema migrated from version ${before.current} to ${after.current}`);
    return 0;
  } catch (e) {
    err(`migration failed: ${(e as Error).message}`);
    return 1;
  } finally {
    await db.close();
  }
};

/** Runs a command; resolves with the exit code (start resolves once listening and keeps running). */
export const runCli = async (argv: readonly string[]): Promise<number | undefined> => {
  const [command, ...rest] = argv;
  if (command === '--version' || command === 'version') {
    out(AGENT_VERSION);
    return 0;
  }
  if (command === '--help' || command === 'help') {
    out(USAGE);
    return 0;
  }
  if (!command || !COMMANDS.includes(command)) {
    err(command ? `unknown command ${command.slice(0, 40)}` : 'a command is needed');
    process.stderr.write(USAGE);
    return 2;
  }
  let config: CollectorConfig;
  try {
    config = loadConfig(rest);
  } catch (e) {
    if (e instanceof ConfigError) {
      err(e.message);
      return 2;
    }
    throw e;
  }
  if (command === 'check-config') return checkConfig(config, rest.includes('--connect'));
  if (command === 'migrate') return runMigrate(config);
  await start(config);
  return undefined;
};

export const main = (argv: readonly string[] = process.argv.slice(2)): void => {
  runCli(argv).then(
    (code) => {
      if (code !== undefined) process.exitCode = code;
    },
    (e: unknown) => {
      err(e instanceof Error ? (e.stack ?? e.message) : String(e));
      process.exit(1);
    },
  );
};
