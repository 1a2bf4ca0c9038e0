/**
 * `npm run server`: the collector from the config file and environment (docs/server.md), the
 * same as `ferry-collector start` of the compiled collector (cli.ts) but run from the source.
 * SIGTERM or SIGINT shuts down gracefully; a second signal exits at once.
 */
import { main } from './cli.js';

main(['start', ...process.argv.slice(2)]);
