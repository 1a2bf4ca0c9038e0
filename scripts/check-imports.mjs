// CI check of DESIGN.md §7: imports between the folders of src/ point one way, and no src file
// imports in a circle. Prints every violation with file:line and exits 1, or one OK line.
// --allow-type-cycles lets cycles made only of `import type` pass (they vanish at build time).
import { resolve } from 'node:path';
import { checkImports, formatReport } from './import-rules.mjs';

const args = process.argv.slice(2);
const allowTypeOnlyCycles = args.includes('--allow-type-cycles');
const srcDir = args.find((a) => !a.startsWith('--')) ?? 'src';
const report = checkImports({ srcDir: resolve(srcDir), allowTypeOnlyCycles });
for (const line of formatReport(report)) console.log(line);
process.exit(report.ok ? 0 : 1);
