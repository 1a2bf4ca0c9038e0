/**
 * The page side of sending (DESIGN.md §2): elects one sender per product (or application)
 * with a Web Lock, runs send passes on its cadence, and talks to other tabs over the
 * product's BroadcastChannel. Loaded lazily when sending is configured.
 */

import type { FerryDatabase } from '../../core/db/open.js';
import { CADENCE, nextCheckDelay, pauseDelay } from '../../core/send/backoff.js';
import { parkedByOtherAgent, unparkAll, unparkSessions } from '../../core/send/parked.js';
import { type PassResult, sendPass } from '../../core/send/pass.js';
import { type ChannelMessage, isChannelMessage, type SenderPause, type SenderState } from '../../shared/channel.js';
import type { SendError } from '../../shared/http-errors.js';
import { channelName, SYNC_TAG, senderLockName } from '../../shared/names.js';
import { AGENT_VERSION } from '../../shared/version.js';
import type { ServerOptions } from '../config/options.js';
import { background, monitorError, warnOnce } from '../tools/monitor.js';

// retryParked() without a running sender (automatic sending off) un-parks through this chunk too.
export { unparkAll };

/** What the sender needs of the running agent, and nothing more. */
export interface SenderHost {
  product: string;
  /** This tab's application (named in `leader` messages). */
  application: string;
  /** The session of this tab, which names it on the channel. */
  tabId: string;
  server(): ServerOptions;
  database(): FerryDatabase | undefined;
  /** Marks sessions whose tab is gone as crashed (with this page's end marks); returns their ids. */
  markCrashed(): Promise<string[]>;
  /** Whether automatic sending is allowed now (consent, read from its one copy). */
  allowed(): Promise<boolean>;
}

export interface SenderDeps {
  compress(sessionId: string): Promise<void>;
  fetch?: typeof fetch;
  locks?: LockManager;
  now?: () => number;
  /**
   * A monotonic clock for the deadlines (Retry-After, backoff, pause): the wall clock (`now`) can
   * move by a day, back (no request for a day) or forward (requests before the server's deadline).
   * @defaultValue performance.now
   */
  elapsed?: () => number;
  chunkSize?: number;
  onState?(state: SenderState): void;
  /** This agent's version: sessions another version parked are tried again at takeover. @defaultValue AGENT_VERSION */
  agentVersion?: string;
}

export interface Sender {
  /**
   * Ask for a check now (forwarded to the leader when this tab is not it); `runningSession`
   * (after an error) is sent as it stands too.
   */
  requestSend(reason: 'error' | 'request' | 'online', runningSession?: string): void;
  state(): SenderState;
  isLeader(): boolean;
  /** The collector URL or ingest key changed: a pause for a refused key, origin or product ends, and a check runs now. */
  targetChanged(): void;
  /** Un-parks every parked session and checks now; resolves with how many were un-parked. */
  retryParked(): Promise<number>;
  stop(): void;
}

/** What the console says once when sending pauses, by reason. */
const PAUSE_TEXT: Record<SenderPause, string> = {
  unauthorized: 'the collector does not know this ingest key',
  forbidden: 'the collector does not allow this origin (or refuses the key)',
  'product-mismatch': 'this ingest key belongs to another product',
};

/** Scheduled checks wait for the page to be idle (at most 2 s), so sending yields to the app. */
const whenIdle = (fn: () => void): void => {
  if (typeof requestIdleCallback === 'function') requestIdleCallback(() => fn(), { timeout: 2000 });
  else fn();
};

export const startSender = (host: SenderHost, deps: SenderDeps): Sender => {
  const now = deps.now ?? Date.now;
  const elapsed = deps.elapsed ?? (() => performance.now());
  const locks = deps.locks ?? (navigator.locks as LockManager | undefined);
  const { product, tabId } = host;
  // The election and the eligible set span the whole product with sendAllApplications.
  const application = host.server().sendAllApplications ? undefined : host.application;
  const channel = typeof BroadcastChannel === 'function' ? new BroadcastChannel(channelName(product)) : undefined;
  let leader = false;
  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let running: Promise<void> | undefined;
  let again = false;
  let releaseLock = (): void => {};
  /** No request before this time (on the `elapsed` clock): the server's Retry-After (or our backoff) said so. */
  let notBefore = 0;
  /** Running sessions whose error asked for an early send, for the next pass. */
  const runningAsked = new Set<string>();
  const state: SenderState = { leader: false, phase: 'idle', queued: 0, parked: [], sent: 0, failures: 0 };

  const post = (m: ChannelMessage): void => {
    // stop() closed the channel; a pass that was under way still finishes and reports.
    if (stopped) return;
    try {
      channel?.postMessage(m);
    } catch (e) {
      monitorError('channel', e);
    }
  };
  const publish = (): void => {
    state.leader = leader;
    deps.onState?.({ ...state, parked: [...state.parked] });
    post({ type: 'state', from: tabId, state: { ...state, parked: [...state.parked] } });
  };

  const schedule = (delay: number): void => {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
    // A pass that was under way at stop() still ends here: it sets no timer for a stopped sender.
    if (stopped) return;
    state.nextCheckAt = now() + delay;
    timer = setTimeout(() => {
      timer = undefined;
      whenIdle(check);
    }, delay);
  };

  const registerSync = (): void => {
    // Background Sync lets the service worker finish the outbox when the network returns,
    // even after every tab has closed. Without it, `online` and the next start retry.
    const sw = navigator.serviceWorker;
    if (!sw?.controller) return;
    background(
      'sync register',
      sw.ready.then((r) => (r as ServiceWorkerRegistration & { sync?: { register(tag: string): Promise<void> } }).sync?.register(SYNC_TAG)),
    );
  };

  const forget = (ids: readonly string[]): void => {
    if (ids.length === 0) return;
    const gone = new Set(ids);
    state.parked = state.parked.filter((p) => !gone.has(p.id));
  };

  /** Bumped by targetChanged(): a pass that ran with the old key or URL does not pause the new ones. */
  let target = 0;

  const afterPass = (r: PassResult, passTarget: number): void => {
    state.sent += r.sent.length;
    state.queued = r.remaining;
    forget(r.unparked ?? []);
    for (const p of r.parked) {
      state.parked.push(p);
      warnOnce(
        `parked:${p.reason}`,
        `the collector refused a session; it is kept and tried again when the agent or collector version changes, or on retryParked(): ${p.reason}`,
      );
    }
    if (r.sent.length) post({ type: 'sent', sessionIds: r.sent });
    const f: SendError | undefined = r.failure;
    if (f && r.paused && passTarget !== target) {
      // Refused with the options as they were when the pass began; they have changed since.
      state.phase = 'idle';
      state.lastError = f.message;
      notBefore = 0;
      schedule(0);
    } else if (f && r.paused) {
      // Every request would be refused alike until the key, origin or product is fixed: one
      // request per 15–30 min (or at once on configure()), and no session parked for it.
      state.failures++;
      state.lastError = f.message;
      state.phase = 'paused';
      state.paused = r.paused;
      warnOnce(
        `paused:${r.paused}:${f.message}`,
        `sending paused: ${PAUSE_TEXT[r.paused]}. Sessions are kept; fix the server options with configure() or the collector's configuration. ${f.message}`,
      );
      const delay = pauseDelay();
      notBefore = elapsed() + delay;
      schedule(delay);
    } else if (f) {
      state.failures++;
      state.lastError = f.message;
      state.phase = f.status === undefined ? 'offline' : 'waiting';
      if (f.status === undefined) registerSync();
      const delay = nextCheckDelay(state.failures, f.retryAfterMs);
      // A server that asked us to wait is not asked again sooner, even by send-now or online.
      notBefore = f.status !== undefined ? elapsed() + delay : 0;
      schedule(delay);
    } else {
      state.failures = 0;
      state.lastError = undefined;
      notBefore = 0;
      state.phase = 'idle';
      schedule(r.busy.length ? CADENCE.firstCheckMs : CADENCE.everyMs);
    }
    publish();
  };

  const pass = async (): Promise<void> => {
    const db = host.database();
    const server = host.server();
    const passTarget = target;
    // A pause lasts until this pass says otherwise.
    state.paused = undefined;
    if (!db || !server.url || !server.ingestKey) {
      state.phase = 'off';
      return publish();
    }
    if (!(await host.allowed())) {
      state.phase = 'no-consent';
      schedule(CADENCE.everyMs);
      return publish();
    }
    state.phase = 'summaries';
    publish();
    const includeRunning = new Set(runningAsked);
    runningAsked.clear();
    const r = await sendPass({
      includeRunning,
      db,
      target: { url: server.url, ingestKey: server.ingestKey },
      product,
      application,
      purge: server.purgeSentSessions,
      compress: deps.compress,
      fetch: deps.fetch,
      locks,
      now,
      chunkSize: deps.chunkSize,
      markCrashed: host.markCrashed,
      allowed: host.allowed,
      onProgress: (p) => {
        const phase = p.type === 'summaries' ? 'summaries' : p.type === 'compressing' ? 'compressing' : 'uploading';
        if (phase !== state.phase) {
          state.phase = phase;
          publish();
        }
      },
    });
    if (r.stopped) {
      state.phase = 'no-consent';
      schedule(CADENCE.everyMs);
      return publish();
    }
    afterPass(r, passTarget);
  };

  /** Runs one pass now, or right after the one under way. */
  const check = (): void => {
    if (!leader || stopped) return;
    const early = notBefore - elapsed();
    if (early > 0) {
      // The timer set for notBefore runs the pass; should it have fired a little early, it is set again.
      if (timer === undefined) schedule(early);
      return;
    }
    if (running) {
      again = true;
      return;
    }
    running = pass()
      .catch((e: unknown) => monitorError('send pass', e))
      .finally(() => {
        running = undefined;
        if (again) {
          again = false;
          check();
        }
      });
  };

  const onMessage = (e: MessageEvent): void => {
    const m: unknown = e.data;
    if (!isChannelMessage(m)) return;
    if (m.type === 'send-now' && leader) {
      if (m.sessionId) runningAsked.add(m.sessionId);
      check();
    }
  };
  channel?.addEventListener('message', onMessage);
  const onOnline = (): void => (leader ? check() : undefined);
  addEventListener('online', onOnline);

  const becomeLeader = (): Promise<void> => {
    leader = true;
    post({ type: 'leader', tabId, application: host.application, at: now() });
    schedule(runningAsked.size ? 0 : CADENCE.firstCheckMs);
    publish();
    // Sessions another agent version parked may go through now (it may have been this version's
    // bug, or the collector's refusal of a field this version no longer sends). Only pages do
    // this, not the service worker, whose build may differ: two builds never undo each other.
    const db = host.database();
    if (db) background('unpark', unparkSessions(db, parkedByOtherAgent(deps.agentVersion ?? AGENT_VERSION), 'unpark-new-agent', now()));
    // The tab that held the lock may have crashed (its lock went with it): its session, and any
    // other left running, goes at once rather than at the first scheduled check.
    background(
      'takeover',
      host.markCrashed().then((crashed) => {
        if (crashed.length && leader && !stopped) schedule(0);
      }),
    );
    return new Promise<void>((r) => (releaseLock = r));
  };

  if (locks) {
    locks.request(senderLockName(product, application), () => (stopped ? undefined : becomeLeader())).catch((e: unknown) => monitorError('sender lock', e));
  } else {
    // No Web Locks: every tab sends; the server's idempotency absorbs the rare overlap.
    void becomeLeader();
  }

  return {
    requestSend(reason, runningSession) {
      // Kept here too: while the election is still open no leader hears the message, and
      // this tab may be the one to win it.
      if (runningSession) runningAsked.add(runningSession);
      if (leader) check();
      else post({ type: 'send-now', from: tabId, reason, sessionId: runningSession });
    },
    state: () => ({ ...state, leader }),
    isLeader: () => leader,
    targetChanged() {
      target++;
      if (state.phase !== 'paused') return;
      state.paused = undefined;
      state.phase = 'idle';
      state.failures = 0;
      notBefore = 0;
      publish();
      check();
    },
    async retryParked() {
      const db = host.database();
      if (!db) return 0;
      const ids = await unparkAll(db, now());
      forget(ids);
      if (ids.length) {
        publish();
        check();
      }
      return ids.length;
    },
    stop() {
      stopped = true;
      leader = false;
      if (timer !== undefined) clearTimeout(timer);
      releaseLock();
      removeEventListener('online', onOnline);
      channel?.removeEventListener('message', onMessage);
      channel?.close();
    },
  };
};
