import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { checkImports } from '../../../scripts/import-rules.mjs';

const CLI = fileURLToPath(new URL('../../../scripts/check-imports.mjs', import.meta.url));
const made: string[] = [];
after(() => {
  for (const d of made) rmSync(d, { recursive: true, force: true });
});

/** Writes `files` (path under src/ → text) into a fresh temporary tree and returns its src/. */
const tree = (files: Record<string, string>): string => {
  const root = mkdtempSync(join(tmpdir(), 'ferry-imports-'));
  made.push(root);
  for (const [path, text] of Object.entries(files)) {
    const p = join(root, 'src', path);
    mkdirSync(dirname(p), { recursive: true });
    writeFileSync(p, text);
  }
  return join(root, 'src');
};

const clean = {
  'shared/ids.ts': "export const ID = 'x';\n",
  'core/db.ts': "import { ID } from '../shared/ids.js';\nexport type { ID };\nexport const open = () => ID;\n",
  'agent/index.ts':
    "import { open } from '../core/db.js';\nimport type { Later } from './later.js';\nexport const start = (): Promise<Later> => import('./later.js').then((m) => m.later(open()));\n",
  'agent/later.ts': 'export type Later = string;\nexport const later = (s: string): Later => s;\n',
  'worker/worker.ts': "import { expose } from 'comlink';\nimport { open } from '../core/db.js';\nexpose(open);\n",
  'server/main.ts': "import { readFileSync } from 'node:fs';\nimport { ID } from '../shared/ids.js';\nexport const x = readFileSync(ID);\n",
};

test('a tree that follows the rules passes, with every kind of import counted as an edge', () => {
  const r = checkImports({ srcDir: tree(clean) });
  assert.deepEqual(r.direction, []);
  assert.deepEqual(r.unresolved, []);
  assert.deepEqual(r.cycles, []);
  assert.equal(r.ok, true);
  assert.equal(r.files, 6);
  // db→ids, index→db, index→later (type), index→later (import()), worker→db, main→ids
  assert.equal(r.edges, 6);
});

test('an import against the direction and a cycle are both reported, with file:line', () => {
  const r = checkImports({
    srcDir: tree({
      ...clean,
      'core/send.ts': "// core must not reach into the page agent\nimport { start } from '../agent/index.js';\nexport const go = start;\n",
      'shared/a.ts': "import { b } from './b.js';\nexport const a = () => b;\n",
      'shared/b.ts': "export const b = 1;\nexport const c = async () => (await import('./a.js')).a;\n",
      'shared/fs.ts': "import { readFile } from 'node:fs/promises';\nexport { readFile };\n",
    }),
  });
  assert.equal(r.ok, false);
  const direction = r.direction.map((v) => `${v.file}:${v.line}`);
  assert.deepEqual(direction, ['src/core/send.ts:2', 'src/shared/fs.ts:1']);
  assert.match(r.direction[0].message, /core → agent/);
  assert.match(r.direction[1].message, /Node built-in 'node:fs\/promises'/);
  assert.equal(r.cycles.length, 1);
  assert.deepEqual(r.cycles[0].path, ['src/shared/a.ts', 'src/shared/b.ts', 'src/shared/a.ts']);
  assert.deepEqual(
    r.cycles[0].hops.map((h) => [h.line, h.kind]),
    [
      [1, 'static'],
      [2, 'dynamic'],
    ],
  );
});

test('a cycle of `import type` fails unless type-only cycles are allowed', () => {
  const srcDir = tree({
    'server/store/blobs.ts': "import type { Store } from './types.js';\nexport type Blob = { store: Store };\n",
    'server/store/types.ts': "import type { Blob } from './blobs.js';\nexport type Store = { blobs: Blob[] };\n",
  });
  const strict = checkImports({ srcDir });
  assert.equal(strict.ok, false);
  assert.equal(strict.cycles[0].typeOnly, true);
  const lenient = checkImports({ srcDir, allowTypeOnlyCycles: true });
  assert.equal(lenient.ok, true);
  assert.equal(lenient.allowedCycles.length, 1);
});

test('the CLI exits 1 on a violation and 0 on a clean tree', () => {
  const bad = spawnSync(process.execPath, [CLI, tree({ ...clean, 'sw/sw.ts': "import { start } from '../agent/index.js';\nstart();\n" })], {
    encoding: 'utf8',
  });
  assert.equal(bad.status, 1, bad.stdout + bad.stderr);
  assert.match(bad.stdout, /src\/sw\/sw\.ts:1 +sw → agent/);
  const good = spawnSync(process.execPath, [CLI, tree(clean)], { encoding: 'utf8' });
  assert.equal(good.status, 0, good.stdout + good.stderr);
  assert.match(good.stdout, /^check-imports: OK, 6 files, 6 imports/);
});

test('the framework layers import the agent only through its public entry, and shared', () => {
  const r = checkImports({
    srcDir: tree({
      ...clean,
      'agent/boot/index.ts': 'export const log = { error: (_: unknown) => {} };\n',
      'agent/log/args.ts': "export const DEFAULT_CATEGORY = 'General';\n",
      'react/index.ts':
        "import { Component } from 'react';\nimport { log } from '../agent/boot/index.js';\nimport type { ID } from '../shared/ids.js';\nexport class B extends Component {}\nexport const f = (id: ID) => log.error(id);\n",
      'vue/index.ts':
        "import type { App } from 'vue';\nimport { log } from '../agent/boot/index.js';\nimport { DEFAULT_CATEGORY } from '../agent/log/args.js';\nimport { open } from '../core/db.js';\nimport { readFileSync } from 'node:fs';\nexport const install = (app: App) => log.error([app, DEFAULT_CATEGORY, open, readFileSync]);\n",
    }),
  });
  assert.equal(r.ok, false);
  assert.deepEqual(
    r.direction.map((v) => `${v.file}:${v.line}`),
    ['src/vue/index.ts:3', 'src/vue/index.ts:4', 'src/vue/index.ts:5'],
    'react/index.ts follows the rule; vue/index.ts reaches past the entry, into core, and into Node',
  );
  assert.match(r.direction[0].message, /vue → agent: '\.\.\/agent\/log\/args\.js'.*only through its public entry src\/agent\/boot\/index\.ts/);
  assert.match(r.direction[1].message, /vue → core: .*vue may import vue, shared, agent\/boot\/index\.ts/);
  assert.match(r.direction[2].message, /Node built-in 'node:fs'/);
});
