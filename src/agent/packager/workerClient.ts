/**
 * Starts `ferry-worker.js` on first need and shares it between jobs; it is stopped after a
 * minute without work. Every call races the worker's own failure, so a worker that cannot load
 * (wrong URL, CSP) rejects the call instead of leaving it pending forever.
 */
import { type Remote, releaseProxy, wrap } from 'comlink';
import type { FerryWorkerApi } from '../../shared/worker-protocol.js';

const IDLE_MS = 60_000;
const START_TIMEOUT_MS = 15_000;

export interface WorkerLease {
  /** Runs `fn` against the worker; rejects if the worker dies or cannot start. */
  call<T>(fn: (api: Remote<FerryWorkerApi>) => Promise<T>): Promise<T>;
  release(): void;
}

interface Running {
  url: string;
  worker: Worker;
  api: Remote<FerryWorkerApi>;
  failed: Promise<never>;
  started: Promise<void>;
  users: number;
  idle?: ReturnType<typeof setTimeout>;
}

let running: Running | undefined;

/**
 * The default place of the worker: `ferry-worker.js` at the package's root, one level above the
 * chunk this module is built into (scripts/check-dist.mjs fails the build if that stops being
 * true). Written as a literal `new URL(…, import.meta.url)` so that an app's bundler (Vite,
 * webpack, Parcel, Rollup with its URL plugin) copies the worker into its own output and rewrites
 * the URL, with no configuration.
 */
export const defaultWorkerUrl = (): string => new URL(/* @vite-ignore */ '../ferry-worker.js', import.meta.url).href;

/** Workers must be same-origin; a cross-origin (CDN) script is loaded through a same-origin stub. */
const workerScript = (url: string): string => {
  if (typeof location === 'undefined') return url;
  const absolute = new URL(url, location.href);
  if (absolute.origin === location.origin) return absolute.href;
  return URL.createObjectURL(new Blob([`import ${JSON.stringify(absolute.href)};`], { type: 'text/javascript' }));
};

const stop = (r: Running): void => {
  if (running === r) running = undefined;
  if (r.idle !== undefined) clearTimeout(r.idle);
  try {
    r.api[releaseProxy]();
  } catch {
    // already released
  }
  r.worker.terminate();
};

const start = (url: string): Running => {
  const worker = new Worker(workerScript(url), { type: 'module', name: 'ferry' });
  let fail!: (e: Error) => void;
  const failed = new Promise<never>((_, reject) => (fail = reject));
  failed.catch(() => {});
  const r: Running = { url, worker, api: wrap<FerryWorkerApi>(worker), failed, started: Promise.resolve(), users: 0 };
  worker.addEventListener('error', (e) => {
    e.preventDefault();
    fail(
      new Error(`Ferry: the worker ${url} failed${e.message ? `: ${e.message}` : ' to load'} (set the workerUrl option to where ferry-worker.js is served)`),
    );
    stop(r);
  });
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Ferry: the worker ${url} did not answer within ${START_TIMEOUT_MS} ms`)), START_TIMEOUT_MS);
  });
  r.started = Promise.race([r.api.ping().then(() => undefined), failed, timeout]).finally(() => clearTimeout(timer));
  r.started.catch(() => stop(r));
  return r;
};

export const acquireWorker = async (url: string): Promise<WorkerLease> => {
  if (running && running.url !== url && running.users === 0) stop(running);
  const r = running && running.url === url ? running : (running = start(url));
  r.users++;
  if (r.idle !== undefined) clearTimeout(r.idle);
  r.idle = undefined;
  let released = false;
  const release = (): void => {
    if (released) return;
    released = true;
    if (--r.users === 0 && running === r) r.idle = setTimeout(() => stop(r), IDLE_MS);
  };
  try {
    await r.started;
  } catch (e) {
    release();
    throw e;
  }
  return {
    call: (fn) => Promise.race([fn(r.api), r.failed]),
    release,
  };
};
