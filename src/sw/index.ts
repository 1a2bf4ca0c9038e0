/**
 * Ferry's service-worker side: `ferrySync()` adds the handlers to any service worker (a
 * workbox one included) in one line; `ferry-sw.js` is a ready-made worker that does only this.
 *
 * - `sync` (tag `ferry-upload`): finishes every product's outbox, resuming from the server's
 *   offset. Chromium retries a failed sync only after 5, then 15 minutes, so the handler
 *   retries within its own event first (bounded, with backoff); on `lastChance` it gives up
 *   quietly and the data waits in IndexedDB for the next page load.
 * - `message` `ferry:send-on-exit`: sends that session with full detail after its page closed.
 */
import { openDB } from 'idb';
import { SYNC_TAG } from '../shared/channel.js';
import { DB_VERSION, type FerryDB } from '../core/db/schema.js';
import type { FerryDatabase } from '../core/db/repository.js';
import { sendPass, type PassResult } from '../core/send/pass.js';
import { loadSendTarget } from '../core/db/sendTarget.js';
import { idbChunkStore } from '../core/db/chunks.js';
import { compressSessionToOutbox } from '../core/package/detailBlob.js';
import { defaultEngine } from '../core/codec/engine.js';
import { isPageMessage } from '../shared/sw-protocol.js';
import type { ServiceWorkerScope } from './sw-types.js';

export { SYNC_TAG };


export interface FerrySyncOptions {
  /** Attempts within one sync event before it fails (and Chromium schedules its own retry). */
  attempts?: number;
  /** First wait between attempts; doubled each time. */
  retryDelayMs?: number;
  fetch?: typeof fetch;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Opens an existing Ferry database without creating one (the page agent owns the schema). */
const openExisting = async (name: string): Promise<FerryDatabase | undefined> => {
  const db = await openDB<FerryDB>(name, DB_VERSION, {
    upgrade(_db, _old, _new, tx) {
      tx.abort(); // not created by an agent yet: nothing to send
    },
  }).catch(() => undefined);
  return db;
};

const productDatabases = async (): Promise<string[]> =>
  (await indexedDB.databases()).map((d) => d.name ?? '').filter((n) => n.startsWith('ferry:'));

/** One pass over one product; `only` restricts it to given sessions. */
const passFor = async (db: FerryDatabase, o: FerrySyncOptions, only?: Set<string>, force = false): Promise<PassResult | undefined> => {
  const target = await loadSendTarget(db);
  if (!target || (!force && !target.autoSend)) return undefined;
  return sendPass({
    db,
    target: { url: target.url, ingestKey: target.ingestKey },
    product: target.product,
    application: force ? undefined : target.application,
    purge: target.purge,
    compress: async (id) => void (await compressSessionToOutbox(db, idbChunkStore(db), id, defaultEngine(), Date.now())),
    fetch: o.fetch,
    locks: (self as unknown as ServiceWorkerScope).navigator.locks,
    only,
  });
};

/** Drains every product's outbox; resolves true when nothing retryable is left failing. */
export const drainOutboxes = async (o: FerrySyncOptions = {}): Promise<boolean> => {
  let ok = true;
  for (const name of await productDatabases()) {
    const db = await openExisting(name);
    if (!db) continue;
    try {
      const r = await passFor(db, o);
      if (r?.failure) ok = false;
    } finally {
      db.close();
    }
  }
  return ok;
};

const drainWithRetries = async (o: FerrySyncOptions, lastChance: boolean): Promise<void> => {
  const attempts = o.attempts ?? 4;
  let delay = o.retryDelayMs ?? 2_000;
  for (let i = 1; i <= attempts; i++) {
    if (await drainOutboxes(o)) return;
    if (i < attempts) {
      await sleep(delay);
      delay *= 2;
    }
  }
  // Last chance: Chromium will not try again, but nothing is lost — the outbox stays in
  // IndexedDB and the next page load's sender picks it up.
  if (!lastChance) throw new Error('ferry: upload still failing; Background Sync will retry');
};

/** Sends one session with full detail once its page has ended it (sendSessionsOnExit). */
const sendOnExit = async (product: string, sessionId: string, o: FerrySyncOptions): Promise<void> => {
  const db = await openExisting(`ferry:${product}`);
  if (!db) return;
  try {
    // The page's exit transaction may still be committing: wait (bounded) for "ended".
    for (let i = 0; i < 50; i++) {
      const s = await db.get('sessions', sessionId);
      if (!s) return;
      if (s.status !== 'running') break;
      await sleep(100);
    }
    const tx = db.transaction('sessions', 'readwrite');
    const s = await tx.store.get(sessionId);
    if (!s || s.detailState === 'sent') return; // never sent twice
    s.forceSend = true;
    if (s.status === 'running') {
      s.status = 'ended';
      s.endedAt = s.heartbeatAt;
    }
    // A summary already answered "not wanted" is asked again, now with force.
    if (s.detailState === 'not-wanted') s.summarySentAt = undefined;
    await tx.store.put(s);
    await tx.done;
    let delay = o.retryDelayMs ?? 2_000;
    for (let i = 0; i < (o.attempts ?? 4); i++) {
      const r = await passFor(db, o, new Set([sessionId]), true);
      if (!r?.failure) return;
      await sleep(delay);
      delay *= 2;
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
