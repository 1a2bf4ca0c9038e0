/**
 * Composes the running agent from its rooms: config, storage (database, writer, limits), session
 * (lifecycle, crash detection), log (recorder, capture, alerts) and send (consent, the lazily
 * loaded sender, the service-worker link). Each room does its own work; this file only wires them
 * and owns the page events.
 */

import type { FerryDatabase } from '../../core/db/open.js';
import type { SessionRecord } from '../../core/db/schema.js';
import { toSummary } from '../../core/db/sessions.js';
import { type ChannelMessage, isChannelMessage, type SenderState } from '../../shared/channel.js';
import type { PendingMessage } from '../../shared/message.js';
import { channelName } from '../../shared/names.js';
import type { SessionSummary } from '../../shared/summary.js';
import { type FerryOptions, findProblems, mergeOptions, type ResolvedOptions } from '../config/options.js';
import { createAlerts } from '../log/alerts.js';
import { type Capture, captureConsole, captureErrors, captureRejections } from '../log/capture.js';
import { createRecorder, type RecordFn } from '../log/record.js';
import { loadClear, loadMigrations, loadPrune } from '../packager/loader.js';
import { createConsent } from '../send/consent.js';
import { createSendLink } from '../send/link.js';
import { type ContextState, createContextState } from '../session/context.js';
import { createLifecycle } from '../session/lifecycle.js';
import { createLimits } from '../storage/limits.js';
import { openStore } from '../storage/openStore.js';
import { createWriter } from '../storage/writer.js';
import { createEmitter, type Handler } from '../tools/emitter.js';
import { background, monitor, monitorError, warnOnce } from '../tools/monitor.js';

import type { AgentEvents } from './events.js';

export type { AgentEvents, AlertEvent } from './events.js';

export interface Agent {
  record: RecordFn;
  configure(change: Partial<FerryOptions>): void;
  flush(): Promise<void>;
  /** Ends the session as page exit does, and stops capture. */
  stop(): Promise<void>;
  /** Stops without ending the session, tells the product's other tabs to stop too, and deletes everything stored for the product. */
  clearLocalData(): Promise<void>;
  sessionId(): string;
  summary(): SessionSummary;
  options(): ResolvedOptions;
  checkCrashedSessions(): Promise<string[]>;
  /** Asks the elected sender to check now. */
  sendNow(): void;
  /** Un-parks every parked session and asks the sender to check; resolves with how many were un-parked. */
  retryParked(): Promise<number>;
  /** Records the user's answer to the consent question (its one copy, in IndexedDB). */
  setConsent(granted: boolean): Promise<void>;
  consentGranted(): boolean;
  /** Whether the user has answered the consent question (here or in another tab). */
  consentAnswered(): boolean;
  /** Sends this session with full detail once it ends (as `server.sendSessionsOnExit`), or stops doing so. */
  setSendSessionsOnExit(on: boolean): void;
  sendsOnExit(): boolean;
  /** The sender's state as this tab's sender last published it; undefined before it started. */
  senderState(): SenderState | undefined;
  /** Resolves when start-up (database, lock, crash check, limits) has finished. */
  ready: Promise<void>;
  /** The product database, or undefined in memory mode (for the lazily loaded parts). */
  database(): FerryDatabase | undefined;
  memoryMessages(): readonly PendingMessage[];
  on<K extends keyof AgentEvents>(event: K, handler: Handler<AgentEvents[K]>): () => void;
}

export interface AgentEnv {
  /** URL of the agent script: ferry-worker.js is found next to it by default. */
  scriptUrl?: string;
  now?: () => number;
  locks?: LockManager;
  window?: Window;
  /** User and context tags (set before init, too). */
  context?: ContextState;
  /** The agent stopped for good because the product's data was deleted (here, or by another tab's clearLocalData). */
  cleared?: () => void;
  /** An uncaught error or rejection was captured (the error notice, when on). */
  uncaught?: () => void;
}

export const startAgent = (initial: ResolvedOptions, env: AgentEnv = {}): Agent => {
  const now = env.now ?? Date.now;
  const win = env.window ?? window;
  const locks: LockManager | undefined = env.locks ?? (navigator.locks as LockManager | undefined);
  let opts = initial;
  let db: FerryDatabase | undefined;
  let stopped = false;
  let halted = false;
  let senderState: SenderState | undefined;
  let captures: Capture[] = [];
  let installationId: string | undefined;
  const events = createEmitter<AgentEvents>();
  const options = () => opts;
  const database = () => db;
  const context = env.context ?? createContextState();
  const channel = typeof BroadcastChannel === 'function' ? new BroadcastChannel(channelName(opts.product)) : undefined;
  /** setSendSessionsOnExit(): overrides the option for this page. */
  let exitOverride: boolean | undefined;
  const sendsOnExit = (): boolean => exitOverride ?? opts.server.sendSessionsOnExit;
  const describe = (r: SessionRecord): void => {
    context.describe(r, opts, installationId);
    // The mark lives on the session's own record (its tab is the one writer): with no service
    // worker to hand it to at exit, the next sender finds it there (send/exitSend.ts).
    if (sendsOnExit()) r.sendOnExit = true;
    else delete r.sendOnExit;
  };

  const session = createLifecycle({
    options,
    now,
    locks,
    database,
    writer: () => writer,
    describe,
    began: (r) => events.emit('session', toSummary(r)),
    crashed: (ids) => events.emit('crashed', ids),
  });
  const limits = createLimits(
    { database, options: () => opts.storage, current: session.record, now, load: () => loadPrune(env.scriptUrl), stopped: () => stopped },
    (e) => monitorError('limits', e),
  );
  const writer = createWriter({
    database,
    ready: session.ready,
    record: session.record,
    maxBuffered: () => opts.storage.maxBufferedMessages,
    freeSpace: limits.enforce,
    written: limits.written,
    now,
  });
  const consent = createConsent({
    channel,
    database,
    required: () => opts.consent.required,
    now,
    changed: (granted) => {
      events.emit('consent', { granted });
      if (granted) link.requestSend('request');
    },
  });
  const link = createSendLink({
    options,
    database,
    sessionId: () => session.record().id,
    // A pass under way when the data is being deleted stops at its next request.
    consent: { ...consent, allowed: () => (stopped ? Promise.resolve(false) : consent.allowed()) },
    markCrashed: session.markCrashed,
    locks,
    now,
    state: (s) => {
      senderState = s;
      events.emit('state', s);
    },
    scriptUrl: env.scriptUrl,
    stopped: () => stopped,
    sendsOnExit,
  });
  const alert = createAlerts({
    options,
    emit: (a) => events.emit('alert', a),
    // Stored first, then the elected sender sends this running session as it stands; the
    // complete session follows once it has ended.
    sendSession: () => {
      const id = session.record().id;
      background(
        'error send',
        writer.flush().then(() => link.requestSend('error', id)),
      );
    },
  });
  const record = createRecorder({ now, options, nextSeq: session.nextSeq, dropped: () => session.record().dropped, push: writer.push, alert });

  const recordUncaught: RecordFn = (...args) => {
    record(...args);
    if (opts.errorNotice) env.uncaught?.();
  };

  const startCapture = (): void => {
    for (const c of captures) c.stop();
    captures = [];
    if (opts.capture.errors) captures.push(captureErrors(recordUncaught, win));
    if (opts.capture.rejections) captures.push(captureRejections(recordUncaught, win));
    if (opts.capture.console) captures.push(captureConsole(record));
  };

  const start = async (): Promise<void> => {
    // Only a database an older agent left needs the migrations: they stay out of the start-up bundle.
    const opened = await openStore(opts.product, session.record().startedAt, now, () => loadMigrations(env.scriptUrl));
    db = opened.db;
    installationId = opened.instance;
    if (opened.reset) session.record().storageReset = opened.reset;
    await session.begin();
    if (!db) return;
    await consent.load();
    await session.markCrashed();
    // Pruning whose chunk could not load (offline) runs once it loads; sending starts regardless.
    await limits.enforce().catch((e) => monitorError('limits', e));
    link.start();
    try {
      void navigator.storage?.persist?.().catch(() => false);
    } catch {
      // not offered here
    }
  };

  // Handed to the browser: monitored, so a failure is reported instead of thrown into the page.
  const onPageHide = monitor(
    'pagehide',
    (): void => {
      if (stopped) return;
      background('pagehide', session.end());
      link.exit();
    },
    undefined,
  );
  const onPageShow = monitor(
    'pageshow',
    (e: PageTransitionEvent): void => {
      // Restored from the back/forward cache: a new document lifetime, so a new session.
      if (e.persisted && !stopped) session.restart();
    },
    undefined,
  );
  const onVisibility = monitor(
    'visibilitychange',
    (): void => {
      if (document.visibilityState === 'hidden') background('flush', writer.flush());
    },
    undefined,
  );

  // A new user or tag goes on the running session's record (its tab is the record's one writer),
  // stored with the next batch or within a second; the summary sent once it has ended carries it.
  const onContextChange = monitor(
    'context',
    (): void => {
      const r = session.record();
      if (stopped || r.status !== 'running') return;
      describe(r);
      writer.touch();
    },
    undefined,
  );
  context.onChange(onContextChange);

  const onChannel = monitor(
    'channel',
    (e: MessageEvent): void => {
      const m: unknown = e.data;
      if (isChannelMessage(m) && m.type === 'cleared') background('cleared', halt());
    },
    undefined,
  );
  channel?.addEventListener('message', onChannel);

  win.addEventListener('pagehide', onPageHide);
  win.addEventListener('pageshow', onPageShow);
  document.addEventListener('visibilitychange', onVisibility);
  startCapture();
  const ready = start().catch((e: unknown) => monitorError('start', e));

  const configure = (change: Partial<FerryOptions>): void => {
    const problems = findProblems(change, true);
    for (const k of ['product', 'application', 'version', 'environment'] as const)
      if (change[k] !== undefined && change[k] !== opts[k]) problems.push(`${k}: cannot change after init`);
    if (problems.length) {
      warnOnce(`configure:${problems.join()}`, `configure() ignored: ${problems.join('; ')}`);
      return;
    }
    const before = opts;
    opts = mergeOptions(opts, change);
    if (change.server?.sendSessionsOnExit !== undefined) exitOverride = undefined;
    // The running session's fields pass the new hook too (as they are; the URL is not read again).
    if ('beforeSummary' in change || change.server?.sendSessionsOnExit !== undefined) onContextChange();
    if (change.capture) startCapture();
    link.reconfigure(before);
    if (change.storage && (opts.storage.maxLocalBytes < before.storage.maxLocalBytes || opts.storage.maxLocalAgeDays < before.storage.maxLocalAgeDays))
      background('limits', limits.enforce());
  };

  /** Stops capture and page events at once, then (once start-up has finished) sending; true for the first caller. */
  const stopAll = async (): Promise<boolean> => {
    if (stopped) return false;
    stopped = true;
    for (const c of captures) c.stop();
    win.removeEventListener('pagehide', onPageHide);
    win.removeEventListener('pageshow', onPageShow);
    document.removeEventListener('visibilitychange', onVisibility);
    channel?.removeEventListener('message', onChannel);
    await ready;
    link.stop();
    consent.stop();
    return true;
  };

  /** Stops for good without ending the session or writing anything more, and closes the database (it is being deleted); after stop() too. */
  const halt = async (): Promise<void> => {
    await stopAll();
    if (halted) return;
    halted = true;
    writer.close();
    session.abandon();
    channel?.close();
    db?.close();
    db = undefined;
    env.cleared?.();
  };

  return {
    record,
    configure,
    flush: () => writer.flush(),
    stop: async () => {
      if (!(await stopAll())) return;
      channel?.close();
      await writer.flush();
      await session.end();
    },
    clearLocalData: async () => {
      const message: ChannelMessage = { type: 'cleared', at: now() };
      try {
        channel?.postMessage(message);
      } catch (e) {
        monitorError('channel', e);
      }
      const [clear] = await Promise.all([loadClear(env.scriptUrl), halt()]);
      await clear.deleteLocalData(opts.product);
    },
    sessionId: () => session.record().id,
    summary: () => toSummary(session.record()),
    options,
    checkCrashedSessions: session.markCrashed,
    sendNow: () => link.requestSend('request'),
    retryParked: async () => {
      await ready;
      return link.retryParked();
    },
    setConsent: (granted) => consent.set(granted),
    consentGranted: consent.granted,
    consentAnswered: consent.answered,
    setSendSessionsOnExit: (on) => {
      exitOverride = on;
      onContextChange();
    },
    sendsOnExit,
    senderState: () => (senderState ? { ...senderState, parked: [...senderState.parked] } : undefined),
    ready,
    database,
    memoryMessages: () => writer.memory(),
    on: (event, handler) => events.on(event, handler),
  };
};
