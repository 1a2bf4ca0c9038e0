import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { defineConfig, type Plugin, type UserConfig } from 'vite';

// One config, one bundle per `--mode` (see the "build" script): the ESM library, the
// script-tag IIFE, the module worker and the ready-made service worker. Vite's library mode
// builds a single IIFE entry per run, so each bundle is its own run into the same dist/.
const root = import.meta.dirname;
const src = (p: string) => resolve(root, 'src', p);

const common = (emptyOutDir: boolean): UserConfig['build'] => ({
  outDir: resolve(root, 'dist'),
  emptyOutDir,
  target: 'es2022',
  sourcemap: true,
  minify: true,
  reportCompressedSize: false,
});

// The agent finds its worker with `new URL('../ferry-worker.js', import.meta.url)` so that an
// app's bundler (Vite, webpack, Parcel) copies the worker into its own output. This build must
// leave that URL alone (`@vite-ignore`: the worker is built by its own run), but the comment
// would then make the app's Vite skip it too; so it is taken out of the output, and the build
// fails when the form is missing, so that an upgrade cannot silently break every bundled app.
const WORKER_URL_IGNORED = /new URL\(\s*\/\* @vite-ignore \*\/\s*"\.\.\/ferry-worker\.js",\s*import\.meta\.url\s*\)/g;
const keepWorkerUrlForAppBundlers = (): Plugin => {
  let seen = 0;
  return {
    name: 'ferry:keep-worker-url',
    enforce: 'post',
    renderChunk(code) {
      // The newlines are kept so the chunk's source map still lines up.
      const out = code.replace(WORKER_URL_IGNORED, (m) => `new URL("../ferry-worker.js", import.meta.url)${'\n'.repeat(m.split('\n').length - 1)}`);
      if (out === code) return null;
      seen++;
      return { code: out, map: null };
    },
    generateBundle() {
      if (seen !== 1) this.error(`expected the worker URL in exactly one chunk, found it in ${seen}; see keepWorkerUrlForAppBundlers`);
    },
  };
};

// The framework entries (ferry-react.js, ferry-vue.js) import the agent from ferry.js, the one
// agent an app's init() starts, as an external module: never a copy, and ferry.js and its chunks
// come out byte for byte as they do without them. Left to the bundler, the agent counts as shared
// between entries and is re-split (with strict entry signatures it went whole into a chunk behind
// a re-exporting ferry.js, off the import.meta.url boot/scriptUrl.ts relies on). The frameworks
// themselves are the app's.
const frameworkEntries = { 'ferry-react': src('react/index.ts'), 'ferry-vue': src('vue/index.ts') };
const frameworks = /^(react|react-dom|vue)(\/|$)/;
const agentFromFerryJs: Plugin = {
  name: 'ferry:framework-entries-import-ferry-js',
  enforce: 'pre',
  resolveId(source, importer) {
    if (importer && Object.values(frameworkEntries).includes(importer) && source === '../agent/boot/index.js') return { id: './ferry.js', external: true };
    return null;
  },
};

// The ready-made service worker precaches the agent's files (src/sw/precache.ts): the list and a
// hash of their content are taken from the runs before it, so each agent build gets its own cache.
const agentFiles = (): { files: string[]; build: string } => {
  const dist = resolve(root, 'dist');
  const manifest = resolve(dist, '.vite/manifest.lib.json');
  if (!existsSync(manifest)) throw new Error('vite.config.ts: build --mode lib (and worker, iife) before --mode sw; see the "build" script');
  // The framework entries are the app's to bundle, never the agent's to load.
  const lib = Object.values(JSON.parse(readFileSync(manifest, 'utf8')) as Record<string, { file: string }>)
    .map((c) => c.file)
    .filter((f) => !Object.keys(frameworkEntries).some((name) => f === `${name}.js`));
  const files = [...new Set([...lib, 'ferry.iife.js', 'ferry-worker.js'])].sort();
  const hash = createHash('sha256');
  for (const f of files) hash.update(f).update(readFileSync(resolve(dist, f)));
  return { files, build: hash.digest('hex').slice(0, 16) };
};

const agentDefines = (): Record<string, string> => {
  const a = agentFiles();
  return { __FERRY_AGENT_FILES__: JSON.stringify(a.files), __FERRY_AGENT_BUILD__: JSON.stringify(a.build) };
};

const targets: Record<string, UserConfig> = {
  lib: {
    plugins: [keepWorkerUrlForAppBundlers(), agentFromFerryJs],
    build: {
      ...common(true),
      lib: {
        entry: { ferry: src('agent/boot/index.ts'), ...frameworkEntries },
        formats: ['es'],
      },
      // 'allow-extension' lets Rolldown merge the modules that start-up and the lazy parts share
      // into ferry.js (which then also exports them, under minified names) instead of fetching
      // them as extra start-up chunks.
      rollupOptions: { external: frameworks, preserveEntrySignatures: 'allow-extension', output: { chunkFileNames: 'chunks/[name]-[hash].js' } },
    },
  },
  // Its own run: built with the page entry, the code both use became shared chunks that each
  // entry then fetched as extra files at start-up.
  swmodule: {
    build: {
      ...common(false),
      lib: { entry: { 'ferry-sw-module': src('sw/index.ts') }, formats: ['es'] },
      rollupOptions: { output: { chunkFileNames: 'chunks/[name]-[hash].js' } },
    },
  },
  iife: {
    build: {
      ...common(false),
      lib: { entry: src('agent/boot/iife.ts'), name: 'Ferry', formats: ['iife'], fileName: () => 'ferry.iife.js' },
    },
  },
  worker: {
    build: {
      ...common(false),
      lib: { entry: src('worker/worker.ts'), formats: ['es'], fileName: () => 'ferry-worker.js' },
    },
  },
  sw: {
    build: {
      ...common(false),
      // A classic-script bundle runs both as a classic and as a module service worker.
      lib: { entry: src('sw/ferry-sw.ts'), name: 'FerrySW', formats: ['iife'], fileName: () => 'ferry-sw.js' },
    },
  },
};

export default defineConfig(({ mode }) => {
  const t = targets[mode];
  if (!t) throw new Error(`vite.config.ts: unknown --mode ${mode}; use one of ${Object.keys(targets).join(', ')}`);
  // One manifest per run (the runs share dist/): scripts/size-report.mjs follows each entry's
  // static imports through them to weigh what an app downloads at start-up.
  const define = mode === 'sw' ? agentDefines() : undefined;
  return { ...t, define, build: { ...t.build, manifest: `.vite/manifest.${mode}.json` }, logLevel: 'warn', publicDir: false };
});
