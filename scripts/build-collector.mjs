// `npm run build:collector`: compiles src/server (and the src/shared it imports) to plain ES
// modules in collector/dist, copies the viewer's static files beside them, and writes
// collector/config.schema.json from the compiled CONFIG_SCHEMA. collector/bin/ferry-collector.js
// runs the result with node alone (no tsx); collector/package.json lists its runtime dependencies.
import { execFileSync } from 'node:child_process';
import { cpSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const root = resolve(import.meta.dirname, '..');
const dist = join(root, 'collector', 'dist');
rmSync(dist, { recursive: true, force: true });
execFileSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(root, 'tsconfig.collector.json')], { stdio: 'inherit' });
cpSync(join(root, 'src', 'server', 'viewer'), join(dist, 'server', 'viewer'), { recursive: true });
const { CONFIG_SCHEMA } = await import(pathToFileURL(join(dist, 'server', 'config.js')).href);
writeFileSync(join(root, 'collector', 'config.schema.json'), `${JSON.stringify(CONFIG_SCHEMA, null, 2)}\n`);
console.log(`collector built in ${dist}`);
