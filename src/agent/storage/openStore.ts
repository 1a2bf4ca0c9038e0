// Opens the product database for this page and checks it was not silently emptied (Chromium opens
// a corrupted IndexedDB as an empty one); without IndexedDB the session stays in memory.
import { createSchema } from '../../core/db/createSchema.js';
import { getMeta, putMeta } from '../../core/db/meta.js';
import { type FerryDatabase, type OpenOptions, openOrCreateProductDb } from '../../core/db/open.js';
import type { StorageReset } from '../../shared/summary.js';
import { detectReset, readWatermark, writeWatermark } from '../session/watermark.js';
import { warnOnce } from '../tools/monitor.js';

export interface OpenedStore {
  db?: FerryDatabase;
  /** Set when the database was found emptied although a watermark says it held sessions. */
  reset?: StorageReset;
  /** The database's installation id (`meta.instance`), made when it was created. */
  instance?: string;
}

export const openStore = async (product: string, startedAt: number, now: () => number, migrations: OpenOptions['migrations']): Promise<OpenedStore> => {
  try {
    const { db, created } = await openOrCreateProductDb(product, {
      now,
      create: createSchema,
      migrations,
      onBlocked: () => warnOnce('db-blocked', 'an older Ferry in another tab keeps the database open; storage waits until it closes'),
    });
    const reset = detectReset(created, readWatermark(product), now());
    let instance = await getMeta(db, 'instance');
    if (!instance) {
      instance = { id: crypto.randomUUID(), createdAt: now() };
      await putMeta(db, 'instance', instance);
    }
    const sessions = await db.count('sessions');
    writeWatermark(product, { instance: instance.id, sessions: sessions + 1, lastSessionStartedAt: startedAt });
    return { db, reset, instance: instance.id };
  } catch (e) {
    warnOnce('no-idb', 'IndexedDB is unavailable; keeping a bounded in-memory buffer for this session', e);
    return {};
  }
};
