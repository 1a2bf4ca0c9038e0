/**
 * Ferry's service-worker side: `ferrySync()` adds the handlers to any service worker (a
 * workbox one included) in one line; `ferry-sw.js` is a ready-made worker that does only this.
 *
 * - `sync` (tag `ferry-upload`): marks sessions whose tab crashed, then sends every product's
 *   eligible sessions and finishes its outbox, resuming from the server's offset. Chromium retries
 *   a failed sync only after 5, then 15 minutes, so the handler retries within its own event
 *   first (bounded, with backoff); on `lastChance` it gives up quietly and the data waits in
 *   IndexedDB for the next page load.
 * - `message` `ferry:send-on-exit`: sends that session with full detail after its page closed.
 */

import { defaultEngine } from '../core/codec/engine.js';
import { idbChunkStore } from '../core/db/chunks.js';
import { autoSendAllowed, getMeta } from '../core/db/meta.js';
import { bundledMigrations } from '../core/db/migrations.js';
import { type FerryDatabase, openProductDb } from '../core/db/open.js';
import { compressSessionToOutbox } from '../core/package/detailBlob.js';
import { backoffDelay } from '../core/send/backoff.js';
import { prepareExitSend } from '../core/send/onExit.js';
import { type PassResult, sendPass } from '../core/send/pass.js';
import { productOfDb, SYNC_TAG } from '../shared/names.js';
import { isPageMessage } from '../shared/sw-protocol.js';
import type { ServiceWorkerScope } from './sw-types.js';

export { SYNC_TAG };

export interface FerrySyncOptions {
  /** Attempts within one sync event before it fails (and Chromium schedules its own retry). */
  attempts?: number;
  /** First wait between attempts; doubled (with jitter) each time. */
  retryDelayMs?: number;
  fetch?: typeof fetch;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const retryWait = (o: FerrySyncOptions, attempt: number): number => {
  const base = o.retryDelayMs ?? 2_000;
  return backoffDelay(attempt, { baseMs: base, maxMs: base * 16 });
};

const locks = (): LockManager | undefined => (self as unknown as ServiceWorkerScope).navigator.locks;

const productsWithDatabase = async (): Promise<string[]> =>
  (await indexedDB.databases()).map((d) => productOfDb(d.name ?? '')).filter((p): p is string => p !== undefined);

/** One pass over one product; `only` restricts it to given sessions, `force` sends them whatever auto-send says. */
const passFor = async (db: FerryDatabase, o: FerrySyncOptions, only?: Set<string>, force = false): Promise<PassResult | undefined> => {
  const target = await getMeta(db, 'sendTarget');
  if (!target) return undefined;
  // Consent is read from its one copy at every request, so a change in any tab stops this pass too.
  const allowed = async (): Promise<boolean> =>
    force ? !target.consentRequired || (await getMeta(db, 'consent'))?.granted === true : autoSendAllowed(target, await getMeta(db, 'consent'));
  if (!(await allowed())) return undefined;
  return sendPass({
    db,
    target: { url: target.url, ingestKey: target.ingestKey },
    product: target.product,
    application: force ? undefined : target.application,
    purge: target.purge,
    compress: async (id) => void (await compressSessionToOutbox(db, idbChunkStore(db), id, defaultEngine(), Date.now())),
    fetch: o.fetch,
    locks: locks(),
    only,
    allowed,
  });
};

/** Sends every product's eligible sessions; resolves true when nothing retryable is left failing. */
export const drainOutboxes = async (o: FerrySyncOptions = {}): Promise<boolean> => {
  let ok = true;
  for (const product of await productsWithDatabase()) {
    const opened = await openProductDb(product, { migrations: bundledMigrations }).catch(() => undefined);
    if (!opened) continue;
    try {
      const r = await passFor(opened.db, o);
      // A refused key, origin or product is not retried within the event (nor by Background Sync):
      // every attempt would be refused alike, and the next page load, with its options, tries again.
      if (r?.failure && !r.paused) ok = false;
    } finally {
      opened.db.close();
    }
  }
  return ok;
};

const drainWithRetries = async (o: FerrySyncOptions, lastChance: boolean): Promise<void> => {
  const attempts = o.attempts ?? 4;
  for (let i = 1; i <= attempts; i++) {
    if (await drainOutboxes(o)) return;
    if (i < attempts) await sleep(retryWait(o, i));
  }
  // Last chance: Chromium will not try again, but nothing is lost — the sessions stay in
  // IndexedDB and the next page load's sender picks them up.
  if (!lastChance) throw new Error('ferry: upload still failing; Background Sync will retry');
};

/** Sends one session with full detail once its page has ended it (sendSessionsOnExit). */
const sendOnExit = async (product: string, sessionId: string, o: FerrySyncOptions): Promise<void> => {
  const opened = await openProductDb(product, { migrations: bundledMigrations }).catch(() => undefined);
  if (!opened) return;
  const { db } = opened;
  try {
    if (!(await prepareExitSend(db, sessionId, { locks: locks() }))) return;
    for (let i = 1; i <= (o.attempts ?? 4); i++) {
      const r = await passFor(db, o, new Set([sessionId]), true);
      if (!r?.failure || r.paused) return;
      await sleep(retryWait(o, i));
    }
  } finally {
    db.close();
  }
};

/** Adds Ferry's handlers to this service worker. */
export const ferrySync = (o: FerrySyncOptions = {}, scope: ServiceWorkerScope = self as unknown as ServiceWorkerScope): void => {
  scope.addEventListener('sync', (e) => {
    if (e.tag === SYNC_TAG) e.waitUntil(drainWithRetries(o, e.lastChance));
  });
  scope.addEventListener('message', (e) => {
    if (isPageMessage(e.data)) e.waitUntil(sendOnExit(e.data.product, e.data.sessionId, o));
  });
};
