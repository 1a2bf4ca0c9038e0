/**
 * `npm start`: the collector with the embedded store in ./.data, a demo product, the demo page at
 * /demo/, the built agent at /dist/ and the viewer at /viewer/, all on one origin
 * (http://127.0.0.1:8787 unless FERRY_PORT / FERRY_HOST say otherwise). A ferry.config.json in
 * the working directory and FERRY_* variables still apply (docs/server.md).
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { startCollector } from '../src/server/collector.js';
import { type CollectorConfig, ConfigError, loadConfig } from '../src/server/config.js';
import { createLogger } from '../src/server/log.js';
import { devProducts } from './dev-config.js';

const root = resolve(import.meta.dirname, '..');

const devConfig = (): CollectorConfig => {
  const env = { FERRY_LOG_FORMAT: 'pretty', ...process.env };
  const config = loadConfig(process.argv.slice(2), env);
  if (Object.keys(config.products).length === 0) config.products = devProducts(['*']);
  if (config.adminTokens.length === 0) {
    // A dev token kept in the data dir, so the viewer login survives restarts.
    mkdirSync(config.dataDir, { recursive: true });
    const file = join(config.dataDir, 'admin-token');
    if (!existsSync(file)) writeFileSync(file, randomBytes(18).toString('base64url') + '\n', { mode: 0o600 });
    config.adminTokens = [readFileSync(file, 'utf8').trim()];
  }
  config.static = [...config.static, { prefix: '/demo/', dir: join(root, 'demo') }, { prefix: '/dist/', dir: join(root, 'dist') }];
  return config;
};

const main = async (): Promise<void> => {
  const config = devConfig();
  const log = createLogger(config.log);
  const collector = await startCollector(config, { log });
  const line = '─'.repeat(64);
  process.stdout.write(
    [
      '',
      line,
      ` Ferry is running (store: ${collector.store.kind}, data: ${config.dataDir})`,
      `   demo       ${collector.url}/demo/`,
      `   viewer     ${collector.url}/viewer/`,
      `   collector  ${collector.url}/api/v1   (health: ${collector.url}/health)`,
      `   admin token for the viewer: ${collector.adminTokens[0]}`,
      `   demo ingest key: ${Object.values(config.products)[0]?.keys[0]?.key ?? '(none)'}`,
      line,
      '',
    ].join('\n'),
  );
  let stopping = false;
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.on(sig, () => {
      if (stopping) process.exit(1);
      stopping = true;
      void collector.close().then(() => process.exit(0));
    });
  }
};

main().catch((e: unknown) => {
  process.stderr.write(`ferry start: ${e instanceof ConfigError ? e.message : e instanceof Error ? e.stack : String(e)}\n`);
  process.exit(1);
});
