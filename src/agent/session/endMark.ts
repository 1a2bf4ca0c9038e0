// A tab closed while another transaction of its database is running (a sender confirming an
// upload) can be torn down before the queued 'ended' write commits; the next start would then
// call a normally closed session crashed. localStorage is written synchronously at pagehide,
// so this mark survives where the IndexedDB write did not.

import { endMarkPrefix } from '../../shared/names.js';
import { localStore } from './localStore.js';

const prefix = endMarkPrefix;

/** Records that `sessionId` ended at `at`; cleared once the 'ended' record is stored. */
export const markEnded = (product: string, sessionId: string, at: number): void => {
  try {
    localStore()?.setItem(prefix(product) + sessionId, String(at));
  } catch {
    // Quota or privacy mode: without the mark a lost write reads as a crash, as before.
  }
};

export const clearEnded = (product: string, sessionId: string): void => {
  try {
    localStore()?.removeItem(prefix(product) + sessionId);
  } catch {
    // see markEnded
  }
};

/** Every session of `product` marked ended, with when. */
export const readEndMarks = (product: string): Map<string, number> => {
  const marks = new Map<string, number>();
  try {
    const s = localStore();
    if (!s) return marks;
    const p = prefix(product);
    for (let i = 0; i < s.length; i++) {
      const k = s.key(i);
      if (!k?.startsWith(p)) continue;
      const at = Number(s.getItem(k));
      if (Number.isFinite(at)) marks.set(k.slice(p.length), at);
    }
  } catch {
    // see markEnded
  }
  return marks;
};
