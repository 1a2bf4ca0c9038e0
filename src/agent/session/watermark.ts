// Chromium opens a corrupted IndexedDB as an empty one (BROWSER-FACTS.md), so an emptied
// database looks new. A small watermark in localStorage, outside IndexedDB, remembers that a
// database existed; finding it beside a freshly created database means data was lost.

import { watermarkKey } from '../../shared/names.js';
import type { StorageReset } from '../../shared/summary.js';
import { localStore } from './localStore.js';

export interface Watermark {
  instance: string;
  sessions: number;
  lastSessionStartedAt?: number;
}

const key = watermarkKey;

export const readWatermark = (product: string): Watermark | undefined => {
  try {
    const raw = localStore()?.getItem(key(product));
    if (!raw) return undefined;
    const w = JSON.parse(raw) as Watermark;
    return typeof w.instance === 'string' && typeof w.sessions === 'number' ? w : undefined;
  } catch {
    return undefined;
  }
};

export const writeWatermark = (product: string, w: Watermark): void => {
  try {
    localStore()?.setItem(key(product), JSON.stringify(w));
  } catch {
    // Quota or privacy mode: the watermark is a best-effort check.
  }
};

/** The reset to report, when the database was created now although a watermark says one existed. */
export const detectReset = (created: boolean, w: Watermark | undefined, now: number): StorageReset | undefined => {
  if (!created || !w) return undefined;
  const reset: StorageReset = { detectedAt: now, sessionsBefore: w.sessions };
  if (w.lastSessionStartedAt !== undefined) reset.lastSessionStartedAt = w.lastSessionStartedAt;
  return reset;
};
