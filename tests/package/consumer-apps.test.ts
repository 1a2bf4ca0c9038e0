// Ferry as a web developer installs it: the tarball `npm pack` makes, installed with only a bundler
// into a new app, type-checked against the shipped .d.ts, built, served and run in real Chromium.
// Each app must start, load its worker from the bundler's own output, deliver a session to a real
// collector and build a package. The script-tag build is tested served alone, from another origin
// (a CDN), as the tarball's dist/ holds it.

import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import type { Browser, Page } from 'playwright-core';
import { launchBrowser, until } from '../support/browser.js';
import { createConsumerApp, type Packed, packRepository } from '../support/consumer.js';
import { startStaticServer } from '../support/static-server.js';
import { KEYS, startTestCollector, type TestCollector } from '../unit/server/harness.js';

let packed: Packed;
let browser: Browser;
let collector: TestCollector;

before(async () => {
  [packed, browser, collector] = await Promise.all([
    packRepository(),
    launchBrowser(),
    startTestCollector({ listen: true, over: { products: { shop: { policy: 'all', keys: [{ key: KEYS.all, origins: ['*'] }] } } } }),
  ]);
});
after(async () => {
  await browser?.close();
  await collector?.close();
  await packed?.dispose();
});

/** The app's code, the same for every bundler; `typed` adds the TypeScript the Vite app is written in. */
const appSource = (pkg: string, typed: boolean) => `
import { getSessionId, getSessionSummary, init, log, packager } from '${pkg}';

const q = new URLSearchParams(location.search);
init({
  product: 'shop',
  application: 'web',
  version: '1.0.0',
  server: { url: q.get('collector') ?? '', ingestKey: q.get('key') ?? '', autoSendSessions: true },
});
log.info('app started', { bundler: '${typed ? 'vite' : 'webpack'}' });
log.error('Checkout', 'payment failed', { code: 'E_CARD' });
${typed ? "// Its own chunk, so the sizes below stay Ferry's (React is 60 KB of it).\nvoid import('./react-part').then((m) => m.mountReact(document.body.appendChild(document.createElement('div'))));\n" : ''}
${typed ? '(window as unknown as { consumer: unknown })' : 'window'}.consumer = {
  sessionId: () => getSessionId(),
  errors: () => getSessionSummary()?.counts.error ?? 0,
  packageBlob: async () => {
    const r = await packager.send({ criteria: ['active'], destination: 'blob' });
    return { status: r.status, size: r.blob?.size ?? 0, sessions: r.sessions.length };
  },
};
`;

/** Common mistakes the shipped types must refuse (checked by tsc, never run). */
const mistakes = (pkg: string) => `
import { init, log } from '${pkg}';

export const mistakes = () => {
  // @ts-expect-error: dsn is Sentry's option, not Ferry's
  init({ product: 'shop', application: 'web', version: '1', dsn: 'https://x' });
  // @ts-expect-error: a number is neither a category, a text nor an Error
  log.error(42);
};
`;

const tsconfig = (moduleResolution: string, module: string) =>
  JSON.stringify({
    compilerOptions: {
      target: 'ES2022',
      module,
      moduleResolution,
      lib: ['ES2023', 'DOM', 'DOM.Iterable'],
      strict: true,
      noEmit: true,
      skipLibCheck: false,
      types: [],
    },
    include: ['src'],
  });

interface RunResult {
  workers: string[];
  failed: string[];
  warnings: string[];
}

/** Opens the app at `url` and checks what every app must do; returns what it saw. */
const runApp = async (url: string, origin: string, check?: (page: Page) => Promise<void>): Promise<RunResult> => {
  const context = await browser.newContext();
  const page: Page = await context.newPage();
  const seen: RunResult = { workers: [], failed: [], warnings: [] };
  page.on('worker', (w) => seen.workers.push(w.url()));
  page.on('console', (m) => {
    if (m.type() === 'warning' || m.type() === 'error') seen.warnings.push(m.text());
  });
  context.on('response', (r) => {
    if (r.status() >= 400) seen.failed.push(`${r.status()} ${r.url()}`);
  });
  context.on('requestfailed', (r) => seen.failed.push(`${r.failure()?.errorText} ${r.method()} ${r.url()}`));
  await page.goto(`${url}?collector=${encodeURIComponent(collector.collector.url)}&key=${KEYS.all}`);
  const id = await until(
    () => page.evaluate(() => (window as unknown as { consumer?: { sessionId(): string | undefined } }).consumer?.sessionId()),
    'the app started Ferry',
  );
  await until(() => collector.logs.some((r) => r.msg === 'detail stored' && r.session === id), 'the error session at the collector', 30_000);
  const pkg = await page.evaluate(() =>
    (window as unknown as { consumer: { packageBlob(): Promise<{ status: string; size: number; sessions: number }> } }).consumer.packageBlob(),
  );
  assert.equal(pkg.status, 'sent', 'the package was built');
  await check?.(page);
  assert.ok(pkg.size > 200 && pkg.sessions === 1, `a package of the running session (${JSON.stringify(pkg)})`);
  assert.ok(seen.workers.length > 0, 'the agent started its worker');
  for (const w of seen.workers) assert.ok(w.startsWith(origin) || w.startsWith('blob:'), `the worker came from ${origin}: ${w}`);
  assert.deepEqual(seen.failed, [], 'no request failed');
  assert.deepEqual(
    seen.warnings.filter((w) => w.includes('[ferry]')),
    [],
    'Ferry printed no warning',
  );
  await context.close();
  return seen;
};

/** Gzip bytes of each JavaScript file under `dir`, as the note on what an app pays quotes them. */
const gzipSizes = async (dir: string): Promise<Record<string, number>> => {
  const out: Record<string, number> = {};
  for (const f of await readdir(dir)) if (f.endsWith('.js')) out[f] = gzipSync(await readFile(join(dir, f)), { level: 9 }).length;
  return out;
};
const describeSizes = (
  bundler: string,
  sizes: Record<string, number>,
  isStartup: (f: string) => boolean,
  isWorker: (f: string) => boolean,
  isApp: (f: string) => boolean = () => false,
): string => {
  const sum = (p: (f: string) => boolean) =>
    Object.entries(sizes)
      .filter(([f]) => p(f))
      .reduce((n, [, b]) => n + b, 0);
  const lazy = (f: string) => !isStartup(f) && !isWorker(f) && !isApp(f);
  const app = Object.keys(sizes).filter(isApp);
  return `${bundler} app (gzip -9): start-up ${sum(isStartup)} B, lazy ${sum(lazy)} B in ${Object.keys(sizes).filter(lazy).length} files, worker ${sum(isWorker)} B${app.length ? ` (not counted: the app's React part, ${sum(isApp)} B in ${app.join(', ')})` : ''}`;
};

test("a Vite app built from the tarball (with React and the ./react boundary) type-checks, starts, loads the worker from its own assets, delivers a session, logs the boundary's error into it and builds a package", async (t) => {
  const app = await createConsumerApp(
    {
      'index.html': '<!doctype html><meta charset="utf-8"><title>shop</title><script type="module" src="/src/main.ts"></script>',
      'src/main.ts': appSource(packed.name, true),
      'src/mistakes.ts': mistakes(packed.name),
      // ./react as an app uses it: React from npm, the boundary around a component that throws.
      'src/react-part.ts': `
import { createElement } from 'react';
import { createRoot } from 'react-dom/client';
import { FerryErrorBoundary } from '${packed.name}/react';

const Broken = (): never => {
  throw new Error('render failed');
};
export const mountReact = (el: HTMLElement): void => {
  createRoot(el).render(
    createElement(FerryErrorBoundary, { category: 'Shop', fallback: createElement('p', { id: 'fallback' }, 'Something went wrong') }, createElement(Broken)),
  );
};
`,
      'tsconfig.json': tsconfig('bundler', 'ESNext'),
    },
    packed.tarball,
    ['vite', 'typescript', 'react', 'react-dom', '@types/react', '@types/react-dom'],
  );
  try {
    await app.exec('npx', ['tsc', '-p', '.']);
    await app.exec('npx', ['vite', 'build']);
    const assets = await readdir(join(app.dir, 'dist', 'assets'));
    t.diagnostic(`Vite assets: ${assets.join(', ')}`);
    t.diagnostic(
      describeSizes(
        'Vite',
        await gzipSizes(join(app.dir, 'dist', 'assets')),
        (f) => f.startsWith('index-'),
        (f) => f.startsWith('ferry-worker-'),
        (f) => f.startsWith('react-part-'),
      ),
    );
    assert.ok(
      assets.some((f) => /^ferry-worker-.*\.js$/.test(f)),
      `Vite emitted the worker into the app's assets (${assets.join(', ')})`,
    );
    const server = await startStaticServer(join(app.dir, 'dist'));
    try {
      const seen = await runApp(`${server.url}/`, server.url, async (page) => {
        await page.locator('#fallback').waitFor();
        // The boundary's error and the app's own log.error, in the one session of the one agent.
        await until(
          () => page.evaluate(() => ((window as unknown as { consumer: { errors(): number } }).consumer.errors() >= 2 ? true : undefined)),
          "the boundary's error counted in the app's session",
        );
      });
      assert.ok(
        seen.workers.some((w) => /\/assets\/ferry-worker-.*\.js$/.test(w)),
        `the worker ran from the app's assets: ${seen.workers.join(', ')}`,
      );
    } finally {
      await server.close();
    }
  } finally {
    await app.dispose();
  }
});

test('a webpack app built from the tarball type-checks (node16 resolution), starts, loads the worker from its own output, delivers a session and builds a package', async (t) => {
  const app = await createConsumerApp(
    {
      'src/main.js': appSource(packed.name, false),
      'src/mistakes.ts': mistakes(packed.name),
      'tsconfig.json': tsconfig('nodenext', 'NodeNext'),
      'build.mjs': `
import webpack from 'webpack';
const compiler = webpack({
  mode: 'production',
  entry: './src/main.js',
  output: { path: new URL('./dist', import.meta.url).pathname, filename: 'main.js', clean: true },
  devtool: false,
});
compiler.run((err, stats) => {
  if (err || stats.hasErrors()) {
    console.error(err ?? stats.toString('errors-only'));
    process.exit(1);
  }
  const warnings = stats.toJson({ all: false, warnings: true }).warnings;
  console.log(JSON.stringify({ assets: Object.keys(stats.compilation.assets), warnings: warnings.map((w) => w.message) }));
  compiler.close(() => {});
});
`,
    },
    packed.tarball,
    ['webpack', 'typescript'],
  );
  try {
    await app.exec('npx', ['tsc', '-p', '.']);
    const out = JSON.parse((await app.exec('node', ['build.mjs'])).trim().split('\n').pop() ?? '{}') as { assets: string[]; warnings: string[] };
    assert.deepEqual(out.warnings, [], 'webpack had nothing to warn about');
    const sizes = await gzipSizes(join(app.dir, 'dist'));
    await writeFile(join(app.dir, 'dist', 'index.html'), '<!doctype html><meta charset="utf-8"><title>shop</title><script src="main.js"></script>');
    const server = await startStaticServer(join(app.dir, 'dist'));
    try {
      const seen = await runApp(`${server.url}/`, server.url);
      const emitted = seen.workers.map((w) => new URL(w).pathname.slice(1));
      t.diagnostic(
        describeSizes(
          'webpack',
          sizes,
          (f) => f === 'main.js',
          (f) => emitted.includes(f),
        ),
      );
      assert.ok(
        emitted.every((f) => out.assets.includes(f)),
        `the worker is one of webpack's assets (${emitted.join(', ')} in ${out.assets.join(', ')})`,
      );
    } finally {
      await server.close();
    }
  } finally {
    await app.dispose();
  }
});

test("the script-tag build, served alone from another origin (a CDN) as the tarball's dist/ holds it, delivers a session and builds a package", async () => {
  const cdnDir = await mkdtemp(join(tmpdir(), 'ferry-cdn-'));
  const pageDir = await mkdtemp(join(tmpdir(), 'ferry-page-'));
  try {
    const app = await createConsumerApp({}, packed.tarball, []);
    try {
      await app.exec('cp', ['-r', join(app.dir, 'node_modules', ...packed.name.split('/'), 'dist'), cdnDir]);
    } finally {
      await app.dispose();
    }
    const cdn = await startStaticServer(join(cdnDir, 'dist'), { cors: true });
    await writeFile(
      join(pageDir, 'index.html'),
      `<!doctype html><meta charset="utf-8"><title>shop</title>
<script src="${cdn.url}/ferry.iife.js"></script>
<script>
  const q = new URLSearchParams(location.search);
  Ferry.init({ product: 'shop', application: 'web', version: '1.0.0', server: { url: q.get('collector'), ingestKey: q.get('key'), autoSendSessions: true } });
  Ferry.log.error('Checkout', 'payment failed', { code: 'E_CARD' });
  window.consumer = {
    sessionId: () => Ferry.getSessionId(),
    packageBlob: async () => {
      const r = await Ferry.packager.send({ criteria: ['active'], destination: 'blob' });
      return { status: r.status, size: r.blob ? r.blob.size : 0, sessions: r.sessions.length };
    },
  };
</script>`,
    );
    const page = await startStaticServer(pageDir);
    try {
      const seen = await runApp(`${page.url}/`, page.url);
      assert.ok(
        seen.workers.every((w) => w.startsWith('blob:')),
        `the cross-origin worker started through a same-origin stub: ${seen.workers.join(', ')}`,
      );
    } finally {
      await page.close();
      await cdn.close();
    }
  } finally {
    await rm(cdnDir, { recursive: true, force: true });
    await rm(pageDir, { recursive: true, force: true });
  }
});
