/**
 * `npm run server`: the collector from the config file and environment (docs/server.md).
 * SIGTERM or SIGINT shuts down gracefully; a second signal exits at once.
 */
import { startCollector } from './collector.js';
import { ConfigError, loadConfig } from './config.js';
import { createLogger } from './log.js';

const main = async (): Promise<void> => {
  let config;
  try {
    config = loadConfig();
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`ferry collector: ${e.message}\n`);
      process.exit(2);
    }
    throw e;
  }
  const log = createLogger(config.log);
  process.on('unhandledRejection', (err) => log.error('unhandled rejection', { err }));
  const collector = await startCollector(config, { log });
  let stopping = false;
  for (const sig of ['SIGTERM', 'SIGINT'] as const) {
    process.on(sig, () => {
      if (stopping) process.exit(1);
      stopping = true;
      log.info('signal', { signal: sig });
      collector.close().then(
        () => process.exit(0),
        (err: unknown) => {
          log.error('shutdown failed', { err });
          process.exit(1);
        },
      );
    });
  }
};

main().catch((err: unknown) => {
  process.stderr.write(`ferry collector: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
