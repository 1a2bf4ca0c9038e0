/**
 * Framework test apps (tests/e2e/apps/<name>/): built with Vite's JS API as an app's own build
 * would, with the published entry names ('@ferry-telemetry/agent' and its '/react' and '/vue')
 * resolved to the repo's dist/ (so `npm run build` first), served on 127.0.0.1, and read with the
 * page inspector.
 */
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { build, type InlineConfig } from 'vite';
import type { StoredMessage, StoredSession } from './agentPage.js';
import { launchBrowser } from './browser.js';
import { type StaticServer, startStaticServer } from './static-server.js';

const repo = resolve(import.meta.dirname, '../..');
export const DIST = join(repo, 'dist');

/** Builds tests/e2e/apps/`name` into a fresh temporary folder and copies the page inspector beside it. */
export const buildApp = async (name: string, define: InlineConfig['define'] = {}): Promise<string> => {
  const out = mkdtempSync(join(tmpdir(), `ferry-app-${name}-`));
  await build({
    root: join(repo, 'tests/e2e/apps', name),
    configFile: false,
    logLevel: 'warn',
    publicDir: false,
    define,
    resolve: {
      alias: [
        { find: /^@ferry-telemetry\/agent$/, replacement: join(DIST, 'ferry.js') },
        { find: /^@ferry-telemetry\/agent\/react$/, replacement: join(DIST, 'ferry-react.js') },
        { find: /^@ferry-telemetry\/agent\/vue$/, replacement: join(DIST, 'ferry-vue.js') },
      ],
    },
    build: {
      outDir: out,
      emptyOutDir: true,
      target: 'es2022',
      // Unminified, so the function names in React's component stacks stay the source's, as in an
      // app's development build; the frameworks still run their production builds.
      minify: false,
      reportCompressedSize: false,
    },
  });
  copyFileSync(join(repo, 'tests/e2e/pages/inspect.js'), join(out, 'inspect.js'));
  return out;
};

export interface AppE2e {
  browser: Browser;
  server: StaticServer;
  /** The built app's folder, served at server.url. */
  dir: string;
}

/** Builds the app and starts Chromium and a static server on its folder before the file's tests; removes them after. */
export const useApp = (name: string, define?: InlineConfig['define']): AppE2e => {
  const e2e = {} as AppE2e;
  before(async () => {
    e2e.dir = await buildApp(name, define);
    [e2e.browser, e2e.server] = await Promise.all([launchBrowser(), startStaticServer(e2e.dir)]);
  });
  after(async () => {
    await e2e.browser?.close();
    await e2e.server?.close();
    if (e2e.dir) rmSync(e2e.dir, { recursive: true, force: true });
  });
  return e2e;
};

export interface OpenedApp {
  page: Page;
  context: BrowserContext;
  /** Uncaught page errors: the app kept running only if this stays empty. */
  pageErrors: string[];
  /** console.error texts. */
  consoleErrors: string[];
}

/** Opens the app's index.html in a fresh context (a fresh IndexedDB). */
export const openApp = async (e2e: AppE2e): Promise<OpenedApp> => {
  const context = await e2e.browser.newContext();
  const page = await context.newPage();
  // tsx (esbuild keepNames) wraps functions defined inside page.evaluate callbacks in __name().
  await page.addInitScript({ content: 'window.__name = (f) => f;' });
  const pageErrors: string[] = [];
  const consoleErrors: string[] = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error') consoleErrors.push(m.text());
  });
  await page.goto(`${e2e.server.url}/index.html`);
  return { page, context, pageErrors, consoleErrors };
};

/** The product's sessions and messages as stored in IndexedDB `ferry:<product>`, read with the raw API. */
export const readStored = (page: Page, product: string): Promise<{ sessions: StoredSession[]; messages: StoredMessage[] }> =>
  page.evaluate(async (p) => {
    // A computed specifier: the inspector is served beside the app, not part of its bundle.
    const inspector = '/inspect.js';
    const { read } = await import(inspector);
    const { sessions, messages } = await read(p);
    return { sessions, messages };
  }, product);
