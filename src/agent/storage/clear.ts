// clearLocalData's deletion, loaded on first use (packager/loader.ts): the product database and
// the product's localStorage keys. The agent has stopped writing and closed its connection before
// this runs; every other connection (other tabs, workers, the service worker) closes itself on the
// deletion's versionchange (openProductDb).
import { dbName, endMarkPrefix, watermarkKey } from '../../shared/names.js';
import { warnOnce } from '../tools/monitor.js';

// A session id (a UUID), checked by shape only: this chunk imports nothing the start-up code does
// not already share, or the bundler would split that code into one more start-up file.
const ID_RE = /^[\da-f]{8}-[\da-f]{4}-[\da-f]{4}-[\da-f]{4}-[\da-f]{12}$/;

/**
 * Whether a localStorage key is one the agent keeps for `product` (its watermark or an end mark).
 * Exact, not by prefix: a product may be named like another's key (`a` and `a:ended`).
 */
export const isLocalKeyOf = (product: string, key: string): boolean =>
  key === watermarkKey(product) || (key.startsWith(endMarkPrefix(product)) && ID_RE.test(key.slice(endMarkPrefix(product).length)));

export const deleteLocalData = async (product: string): Promise<void> => {
  if (typeof indexedDB !== 'undefined')
    await new Promise<void>((resolve, reject) => {
      const r = indexedDB.deleteDatabase(dbName(product));
      r.onsuccess = () => resolve();
      r.onerror = () => reject(r.error);
      // Only a connection that ignores versionchange (an older agent, another script) holds it up.
      r.onblocked = () => warnOnce('clear-blocked', 'another tab keeps the database open; clearLocalData() finishes once it closes');
    });
  // After the database: until then another tab may still write an end mark.
  // localStorage itself throws where the browser's settings block storage: nothing to delete there.
  let s: Storage | undefined;
  try {
    s = globalThis.localStorage;
  } catch {}
  if (s) for (const k of Object.keys(s)) if (isLocalKeyOf(product, k)) s.removeItem(k);
};
