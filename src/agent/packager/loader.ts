/// <reference types="vite/client" />
/**
 * The packager as the core agent exposes it: a few hundred bytes that load the real packager
 * (src/agent/packager.ts and the worker client) on first use. The ESM build splits it into a
 * chunk; the script-tag build cannot split, so it imports the ESM build (`ferry.js`, next to
 * `ferry.iife.js`) and takes the chunk from there.
 */

import type * as MigrationsModule from '../../core/db/migrations.js';
import type * as ExitSendModule from '../send/exitSend.js';
import type * as WorkerCompressModule from '../send/workerCompress.js';
import type * as ClearModule from '../storage/clear.js';
import type * as PruneModule from '../storage/prune.js';
import { createEmitter } from '../tools/emitter.js';
import { monitorError } from '../tools/monitor.js';
import type * as UiModule from '../ui/index.js';
import type { PackagerHost } from './host.js';
import type * as PackagerModule from './packager.js';
import type { PackagerApi, PackagerEvents } from './types.js';

export type { PackagerApi } from './types.js';

type Packager = typeof PackagerModule;

// Replaced at build time (vite `--mode iife`), so the branch not taken is dropped from the bundle.
const IIFE = import.meta.env?.MODE === 'iife';

/** @internal The packager chunk, for the script-tag build (which loads this file's ESM build). */
export const __loadPackager = (): Promise<Packager> =>
  IIFE ? Promise.reject(new Error('__loadPackager is served by the ESM build')) : import('./packager.js');

/** @internal The sender's worker-compression chunk, for the script-tag build. */
export const __loadWorkerCompress = (): Promise<typeof WorkerCompressModule> =>
  IIFE ? Promise.reject(new Error('__loadWorkerCompress is served by the ESM build')) : import('../send/workerCompress.js');

/** @internal Send on exit without a service worker (send/exitSend.ts), for the script-tag build. */
export const __loadExitSend = (): Promise<typeof ExitSendModule> =>
  IIFE ? Promise.reject(new Error('__loadExitSend is served by the ESM build')) : import('../send/exitSend.js');

/** @internal clearLocalData's deletion, for the script-tag build. */
export const __loadClear = (): Promise<typeof ClearModule> =>
  IIFE ? Promise.reject(new Error('__loadClear is served by the ESM build')) : import('../storage/clear.js');

/** @internal The storage limits' pruning, for the script-tag build. */
export const __loadPrune = (): Promise<typeof PruneModule> =>
  IIFE ? Promise.reject(new Error('__loadPrune is served by the ESM build')) : import('../storage/prune.js');

/** @internal The database migrations, for the script-tag build. */
export const __loadMigrations = (): Promise<typeof MigrationsModule> =>
  IIFE ? Promise.reject(new Error('__loadMigrations is served by the ESM build')) : import('../../core/db/migrations.js');

interface EsmBuild {
  __loadPrune(): Promise<typeof PruneModule>;
  __loadMigrations(): Promise<typeof MigrationsModule>;
  __loadPackager(): Promise<Packager>;
  __loadWorkerCompress(): Promise<typeof WorkerCompressModule>;
  __loadClear(): Promise<typeof ClearModule>;
  __loadExitSend(): Promise<typeof ExitSendModule>;
  __loadUi(): Promise<typeof UiModule>;
}
/** The ESM build next to the script-tag build (`scriptUrl` is the agent script's URL, see boot/scriptUrl.ts). */
export const esmBuild = (scriptUrl: string | undefined): Promise<EsmBuild> =>
  import(/* @vite-ignore */ new URL('ferry.js', scriptUrl ?? location.href).href) as Promise<EsmBuild>;

const load = (scriptUrl: string | undefined): Promise<Packager> => (IIFE ? esmBuild(scriptUrl).then((m) => m.__loadPackager()) : import('./packager.js'));

/** The sender's compression in the worker, loaded on first use (from the ESM build in the script-tag build). */
export const loadWorkerCompress = (scriptUrl: string | undefined): Promise<typeof WorkerCompressModule> =>
  IIFE ? esmBuild(scriptUrl).then((m) => m.__loadWorkerCompress()) : import('../send/workerCompress.js');

/** Send on exit without a service worker, loaded with the send side (from the ESM build in the script-tag build). */
export const loadExitSend = (scriptUrl: string | undefined): Promise<typeof ExitSendModule> =>
  IIFE ? esmBuild(scriptUrl).then((m) => m.__loadExitSend()) : import('../send/exitSend.js');

/** clearLocalData's deletion, loaded when it is called (rarely: it costs nothing at start-up). */
export const loadClear = (scriptUrl: string | undefined): Promise<typeof ClearModule> =>
  IIFE ? esmBuild(scriptUrl).then((m) => m.__loadClear()) : import('../storage/clear.js');

/** The pruning of the storage limits: loaded at start-up, after the database is open. */
export const loadPrune = (scriptUrl: string | undefined): Promise<typeof PruneModule> =>
  IIFE ? esmBuild(scriptUrl).then((m) => m.__loadPrune()) : import('../storage/prune.js');

/** The migrations of a database an older agent left (once per upgrade). */
export const loadMigrations = (scriptUrl: string | undefined): Promise<typeof MigrationsModule> =>
  IIFE ? esmBuild(scriptUrl).then((m) => m.__loadMigrations()) : import('../../core/db/migrations.js');

export const createPackagerApi = (agent: () => PackagerHost | undefined, scriptUrl: string | undefined): PackagerApi => {
  const events = createEmitter<PackagerEvents>();
  const run = <T>(fn: (m: Packager, ctx: PackagerModule.PackagerContext) => Promise<T>): Promise<T> => {
    try {
      const a = agent();
      if (!a) return Promise.reject(new Error('Ferry: call init() before using the packager'));
      return load(scriptUrl).then((m) => fn(m, { agent: a, scriptUrl, emit: events.emit }));
    } catch (e) {
      return Promise.reject(e);
    }
  };
  return {
    send: (options) => run((m, ctx) => m.send(ctx, options)),
    preview: (options) => run((m, ctx) => m.preview(ctx, options)),
    on(event, handler) {
      try {
        return events.on(event, handler);
      } catch (e) {
        monitorError('packager.on', e);
        return () => {};
      }
    },
  };
};
