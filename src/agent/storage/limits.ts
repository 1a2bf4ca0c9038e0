// What the page keeps of the storage limits: a running count of bytes written, and a queue that
// runs the pruning (prune.ts, loaded on first use) one at a time.
import type { FerryDatabase } from '../../core/db/open.js';
import type { SessionRecord } from '../../core/db/schema.js';
import { lazyPart } from '../tools/lazyPart.js';
import type * as PruneModule from './prune.js';

export interface LimitsDeps {
  database: () => FerryDatabase | undefined;
  options: () => { maxLocalBytes: number; maxLocalAgeDays: number };
  /** The live session record (its loss accounting is updated). */
  current: () => SessionRecord;
  now: () => number;
  /** The pruning module (from the ESM build in the script-tag build). */
  load: () => Promise<typeof PruneModule>;
  /** True once the agent has stopped: a failed load is not tried again. */
  stopped: () => boolean;
  /** Where `online` is heard. @defaultValue globalThis (the window) */
  events?: Pick<EventTarget, 'addEventListener' | 'removeEventListener'>;
}

export interface Limits {
  /**
   * Prunes now (one at a time: a quota retry waits for the pruning under way, then runs its own).
   * When the pruning's chunk cannot be loaded (offline), resolves without pruning; the load is
   * tried again when the browser is online, and the pruning then runs.
   */
  enforce(freeBytes?: number): Promise<void>;
  /** Counts bytes just stored; prunes in the background once over the limit. */
  written(bytes: number): void;
}

export const createLimits = (deps: LimitsDeps, onError: (e: unknown) => void): Limits => {
  let usage = 0;
  let running: Promise<void> | undefined;
  /** A batch was stored while a pruning ran, which may have read the store before it. */
  let again = false;
  let module: typeof PruneModule | undefined;
  let waiting: ((m: typeof PruneModule | undefined) => void)[] = [];
  let missed = false;
  const settle = (m: typeof PruneModule | undefined): void => {
    const w = waiting;
    waiting = [];
    for (const resolve of w) resolve(m);
  };
  const part = lazyPart({
    what: 'storage pruning',
    load: deps.load,
    ready: (m) => {
      module = m;
      settle(m);
      // A pruning skipped while the chunk could not load (the start-up one, by age) runs now.
      if (missed) enforce().catch(onError);
    },
    failed: () => {
      missed = true;
      settle(undefined);
    },
    stopped: deps.stopped,
    events: deps.events,
  });
  const prune = (): Promise<typeof PruneModule | undefined> =>
    module
      ? Promise.resolve(module)
      : new Promise((resolve) => {
          waiting.push(resolve);
          part.load();
        });

  const enforce = (freeBytes?: number): Promise<void> => {
    const db = deps.database();
    if (!db) return Promise.resolve();
    const run = async () => {
      const m = await prune();
      if (!m) return;
      const o = deps.options();
      const r = await m.enforceLimits(db, { maxBytes: o.maxLocalBytes, maxAgeDays: o.maxLocalAgeDays, current: deps.current(), now: deps.now(), freeBytes });
      usage = r.usage;
    };
    const p: Promise<void> = (running ?? Promise.resolve()).then(run, run).finally(() => {
      // Only the last queued pruning clears the queue: an earlier one that did would let the next
      // write start a pruning beside the one still running (both would count the same drops).
      if (running !== p) return;
      running = undefined;
      // The pruning may not have seen a batch stored while it ran, nor its chunks to trim: with no
      // later write, the store stayed over the limit. Once more, then, reading the store anew.
      if (again) {
        again = false;
        enforce().catch(onError);
      }
    });
    running = p;
    return p;
  };
  return {
    enforce,
    written(bytes) {
      usage += bytes;
      if (running) again = true;
      else if (usage > deps.options().maxLocalBytes) enforce().catch(onError);
    },
  };
};
