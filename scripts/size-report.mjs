// Prints the gzip size of each built entry and fails when one is over its budget, so the
// core agent's weight is watched on every build (as idb's size report does).
import { readFileSync, existsSync } from 'node:fs';
import { gzipSync } from 'node:zlib';

// The IIFE cannot split, so it carries the lazily loaded parts (sender, packager) inline;
// the ESM entry is the core agent's true start-up weight.
const budgets = {
  'dist/ferry.js': 12_000,
  'dist/ferry.iife.js': 20_000,
  'dist/ferry-worker.js': 20_000,
  'dist/ferry-sw.js': 20_000,
};
let over = 0;
console.log('bundle                    gzip bytes   budget');
for (const [file, budget] of Object.entries(budgets)) {
  if (!existsSync(file)) {
    console.log(`${file.padEnd(26)} missing`);
    over++;
    continue;
  }
  const size = gzipSync(readFileSync(file), { level: 9 }).length;
  const flag = size > budget ? '  OVER BUDGET' : '';
  if (flag) over++;
  console.log(`${file.padEnd(26)}${String(size).padStart(10)} ${String(budget).padStart(8)}${flag}`);
}
if (over) process.exit(1);
