/**
 * Assets the viewer loads besides its own files: the chart library (uPlot, served from the
 * checkout's node_modules under the viewer's CSP) and the offline package opener's worker,
 * bundled on first request from src/worker/viewer-package.ts with esbuild and kept in memory.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Context, Hono } from 'hono';
import type { AppEnv } from './env.js';
import { errorResponse } from './errors.js';
import { serveDir } from './static.js';

const UPLOT_DIR = fileURLToPath(new URL('../../node_modules/uplot/dist/', import.meta.url));
const WORKER_ENTRY = fileURLToPath(new URL('../worker/viewer-package.ts', import.meta.url));

export const mountViewerAssets = (app: Hono<AppEnv>, headers: Record<string, string>): void => {
  const uplot = serveDir('/viewer/vendor/uplot/', UPLOT_DIR);
  app.get('/viewer/vendor/uplot/*', async (c) => {
    const res = await uplot(c);
    for (const [k, v] of Object.entries(headers)) res.headers.set(k, v);
    return res;
  });

  let bundle: Promise<string> | undefined;
  const build = async (): Promise<string> => {
    if (!existsSync(WORKER_ENTRY)) throw new Error(`${WORKER_ENTRY} is missing`);
    const esbuild = await import('esbuild');
    const out = await esbuild.build({
      entryPoints: [WORKER_ENTRY],
      bundle: true,
      format: 'esm',
      target: 'es2022',
      minify: true,
      write: false,
      logLevel: 'silent',
    });
    return out.outputFiles[0]?.text ?? '';
  };
  app.get('/viewer/package-worker.js', async (c: Context) => {
    try {
      bundle ??= build();
      const js = await bundle;
      return c.body(js, 200, {
        'content-type': 'text/javascript; charset=utf-8',
        'cache-control': 'no-cache',
        'x-content-type-options': 'nosniff',
        ...headers,
      });
    } catch (e) {
      bundle = undefined;
      return errorResponse(500, 'internal', `the package opener cannot be built: ${(e as Error).message}`);
    }
  });
};
