// `npm run bench`: runs every bench/*.bench.ts (or those named on the command line) in one
// process, one after another, each printing its own table. The peer comparison (minutes long,
// `npm run bench:peers`) runs only when named.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const dir = import.meta.dirname;
const OPT_IN = ['peers.bench.ts'];
const only = process.argv.slice(2);
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => (only.length === 0 ? !OPT_IN.includes(f) : only.some((o) => f.includes(o))))
  .sort();
for (const f of files) {
  console.log(`\n=== ${f} ===`);
  const mod = (await import(pathToFileURL(join(dir, f)).href)) as { default: () => Promise<void> };
  await mod.default();
}
