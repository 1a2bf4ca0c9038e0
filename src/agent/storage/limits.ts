// What the page keeps of the storage limits: a running count of bytes written, and a queue that
// runs the pruning (prune.ts, loaded on first use) one at a time.
import type { FerryDatabase } from '../../core/db/open.js';
import type { SessionRecord } from '../../core/db/schema.js';
import type * as PruneModule from './prune.js';

export interface LimitsDeps {
  database: () => FerryDatabase | undefined;
  options: () => { maxLocalBytes: number; maxLocalAgeDays: number };
  /** The live session record (its loss accounting is updated). */
  current: () => SessionRecord;
  now: () => number;
  /** The pruning module (from the ESM build in the script-tag build). */
  load: () => Promise<typeof PruneModule>;
}

export interface Limits {
  /** Prunes now (one at a time: a quota retry waits for the pruning under way, then runs its own). */
  enforce(freeBytes?: number): Promise<void>;
  /** Counts bytes just stored; prunes in the background once over the limit. */
  written(bytes: number): void;
}

export const createLimits = (deps: LimitsDeps, onError: (e: unknown) => void): Limits => {
  let usage = 0;
  let running: Promise<void> | undefined;
  const enforce = (freeBytes?: number): Promise<void> => {
    const db = deps.database();
    if (!db) return Promise.resolve();
    const run = async () => {
      const { enforceLimits } = await deps.load();
      const o = deps.options();
      const r = await enforceLimits(db, { maxBytes: o.maxLocalBytes, maxAgeDays: o.maxLocalAgeDays, current: deps.current(), now: deps.now(), freeBytes });
      usage = r.usage;
    };
    running = (running ?? Promise.resolve()).then(run, run).finally(() => (running = undefined));
    return running;
  };
  return {
    enforce,
    written(bytes) {
      usage += bytes;
      if (usage > deps.options().maxLocalBytes && !running) enforce().catch(onError);
    },
  };
};
