#!/usr/bin/env node
// The compiled collector's command line (src/server/cli.ts): start | check-config | migrate.
import { main } from '../dist/server/cli.js';

main();
