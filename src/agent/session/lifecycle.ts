/**
 * One page load is one session (a page restored from the back/forward cache starts a new one).
 * The session is visible in IndexedDB only while its tab holds the live lock, and it is ended at
 * pagehide by one synchronous transaction, marked in localStorage too in case that write is lost.
 */
import type { FerryDatabase } from '../../core/db/open.js';
import type { SessionRecord } from '../../core/db/schema.js';
import { markCrashedSessions } from '../../core/session/crashed.js';
import { HEARTBEAT } from '../../core/session/liveness.js';
import type { ResolvedOptions } from '../config/options.js';
import type { Writer } from '../storage/writer.js';
import { background } from '../tools/monitor.js';
import { clearEnded, markEnded, readEndMarks } from './endMark.js';
import { type HeldLock, holdLiveLock } from './liveLock.js';
import { newSessionRecord } from './record.js';

export interface LifecycleDeps {
  options: () => ResolvedOptions;
  now: () => number;
  locks: LockManager | undefined;
  database: () => FerryDatabase | undefined;
  writer: () => Writer;
  /** Sets the record's descriptive fields (user, context, environment…) before it is first stored. */
  describe: (r: SessionRecord) => void;
  /** A session began (at start, and after a bfcache restore). */
  began: (r: SessionRecord) => void;
  crashed: (ids: string[]) => void;
}

export interface Lifecycle {
  record(): SessionRecord;
  /** Resolves when the current session may be written (its live lock is held). */
  ready(): Promise<void>;
  nextSeq(): number;
  /** Takes the live lock, then stores the session: never running without its lock. */
  begin(): Promise<void>;
  /** Ends the session as pagehide does; resolves once the end is stored (or could not be). */
  end(): Promise<void>;
  /** A new session for a document restored from the back/forward cache. */
  restart(): void;
  /** Lets the session go without ending it (its data is being deleted): no heartbeat, no live lock, nothing written. */
  abandon(): void;
  /** Marks sessions of tabs that are gone as crashed; returns their ids. */
  markCrashed(): Promise<string[]>;
}

export const createLifecycle = (deps: LifecycleDeps): Lifecycle => {
  let rec = newSessionRecord(deps.options(), deps.now());
  let seq = 0;
  let lock: HeldLock | undefined;
  let heartbeat: ReturnType<typeof setInterval> | undefined;
  let markReady = (): void => {};
  let ready = new Promise<void>((r) => (markReady = r));
  const product = deps.options().product;

  const stopHeartbeat = (): void => {
    if (heartbeat !== undefined) clearInterval(heartbeat);
    heartbeat = undefined;
  };

  const begin = async (): Promise<void> => {
    deps.describe(rec);
    try {
      lock = holdLiveLock(rec.id, deps.locks);
      await lock.acquired;
      const db = deps.database();
      if (!db) rec.persistence = 'memory';
      else {
        await db.put('sessions', structuredClone(rec));
        if (!deps.locks) {
          heartbeat = setInterval(() => {
            rec.heartbeatAt = deps.now();
            const d = deps.database();
            if (d) background('heartbeat', d.put('sessions', structuredClone(rec)));
          }, HEARTBEAT.everyMs);
        }
      }
    } finally {
      markReady();
    }
    deps.began(rec);
  };

  const end = (): Promise<void> => {
    stopHeartbeat();
    const held = lock;
    lock = undefined;
    const endedAt = deps.now();
    const id = rec.id;
    if (rec.persistence !== 'memory') markEnded(product, id, endedAt);
    const done = deps.writer().flushOnExit((r) => {
      if (r.status === 'running') {
        r.status = 'ended';
        r.endedAt = endedAt;
      }
    });
    // The lock is released only once the 'ended' record is stored, so no other tab can see a
    // running session without its lock (and call it crashed).
    void done.then((stored) => (stored ? clearEnded(product, id) : undefined)).finally(() => held?.release());
    return done.then(() => undefined);
  };

  const markCrashed = async (): Promise<string[]> => {
    const db = deps.database();
    if (!db) return [];
    const endedAt = readEndMarks(product);
    const ids = await markCrashedSessions(db, { locks: deps.locks, now: deps.now, exclude: rec.id, endedAt });
    // A mark is done with once its session is no longer running (ended by either write); a tab
    // still closing may yet need its own.
    for (const id of endedAt.keys()) {
      const s = await db.get('sessions', id);
      if (s?.status !== 'running') clearEnded(product, id);
    }
    if (ids.length) deps.crashed(ids);
    return ids;
  };

  return {
    record: () => rec,
    ready: () => ready,
    nextSeq: () => ++seq,
    begin,
    end,
    restart() {
      rec = newSessionRecord(deps.options(), deps.now());
      seq = 0;
      ready = new Promise<void>((r) => (markReady = r));
      background('pageshow', begin());
    },
    markCrashed,
    abandon() {
      stopHeartbeat();
      lock?.release();
      lock = undefined;
    },
  };
};
