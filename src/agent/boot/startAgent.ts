import { MESSAGE_LIMITS, type PendingMessage } from '../../shared/message.js';
import type { Severity } from '../../shared/severity.js';
import type { SessionSummary } from '../../shared/summary.js';
import type { SenderState } from '../../shared/channel.js';
import type { Sender } from '../send/sender.js';
import type { PageToServiceWorker } from '../../shared/sw-protocol.js';
import { captureConsole, captureErrors, captureRejections, type Capture } from '../log/capture.js';
import { markCrashedSessions } from '../../core/session/crashed.js';
import { clearEnded, markEnded, readEndMarks } from '../session/endMark.js';
import { createEmitter, type Handler } from '../tools/emitter.js';
import { HEARTBEAT, holdLiveLock, type HeldLock } from '../session/liveLock.js';
import { background, reportInternalError, warnOnce } from '../tools/monitor.js';
import * as normalize from '../log/normalize.js';
import { findProblems, mergeOptions, type BeforeLogMessage, type FerryOptions, type ResolvedOptions } from '../config/options.js';
import { getMeta, openDatabase, putMeta, type FerryDatabase } from '../../core/db/repository.js';
import type { SessionRecord } from '../../core/db/schema.js';
import { newSessionRecord, toSummary } from '../session/record.js';
import { loadWorkerCompress, scriptUrl } from '../packager/loader.js';
import { enforceLimits } from '../storage/limits.js';
import { detectReset, readWatermark, writeWatermark } from '../session/watermark.js';
import { createWriter } from '../storage/writer.js';

/** Error and critical messages (batched), as the Loupe agent's MessageAlert. */
export interface AlertEvent {
  messages: BeforeLogMessage[];
  /** Whether to send now; handlers may change it. Default: autoSendSessions && autoSendOnError. */
  sendSession: boolean;
  /** Least time since the last error-triggered send; handlers may change it. */
  minimumDelayMs: number;
}

export interface AgentEvents {
  alert: AlertEvent;
  /** Sender and outbox status (from this tab's sender). */
  state: SenderState;
  /** A new session started (at init, and after a back/forward-cache restore). */
  session: SessionSummary;
  /** Sessions found crashed. */
  crashed: string[];
}

export interface Agent {
  record(severity: Severity, category: unknown, text: unknown, details?: unknown, exception?: unknown): void;
  configure(change: Partial<FerryOptions>): void;
  flush(): Promise<void>;
  /** Ends the session as page exit does, and stops capture. */
  stop(): Promise<void>;
  sessionId(): string;
  summary(): SessionSummary;
  options(): ResolvedOptions;
  checkCrashedSessions(): Promise<string[]>;
  /** Asks the elected sender to check now. */
  sendNow(): void;
  /** Records the user's answer to the consent question (kept in IndexedDB). */
  setConsent(granted: boolean): Promise<void>;
  consentGranted(): boolean;
  /** Resolves when start-up (database, lock, crash check, limits) has finished. */
  ready: Promise<void>;
  /** The product database, or undefined in memory mode (for the lazily loaded parts). */
  database(): FerryDatabase | undefined;
  memoryMessages(): readonly PendingMessage[];
  on<K extends keyof AgentEvents>(event: K, handler: Handler<AgentEvents[K]>): () => void;
}

export interface AgentEnv {
  now?: () => number;
  locks?: LockManager;
  window?: Window;
}

export const createAgent = (initial: ResolvedOptions, env: AgentEnv = {}): Agent => {
  const now = env.now ?? Date.now;
  const win = env.window ?? window;
  const locks: LockManager | undefined = env.locks ?? (navigator.locks as LockManager | undefined);
  let opts = initial;
  let db: FerryDatabase | undefined;
  let rec: SessionRecord = newSessionRecord(opts, now());
  let lock: HeldLock | undefined;
  let seq = 0;
  let usage = 0;
  let enforcing: Promise<void> | undefined;
  let heartbeat: ReturnType<typeof setInterval> | undefined;
  let captures: Capture[] = [];
  let stopped = false;
  const events = createEmitter<AgentEvents>();

  let markReady = (): void => {};
  let sessionReady = new Promise<void>((r) => (markReady = r));

  const limits = (freeBytes?: number): Promise<void> => {
    const database = db;
    if (!database) return Promise.resolve();
    const run = async () => {
      const r = await enforceLimits(database, {
        maxBytes: opts.storage.maxLocalBytes,
        maxAgeDays: opts.storage.maxLocalAgeDays,
        current: rec,
        now: now(),
        freeBytes,
      });
      usage = r.usage;
    };
    // One pruning at a time; a quota retry waits for the one under way, then runs its own.
    enforcing = (enforcing ?? Promise.resolve()).then(run, run).finally(() => (enforcing = undefined));
    return enforcing;
  };

  const writer = createWriter({
    database: () => db,
    ready: () => sessionReady,
    record: () => rec,
    maxBuffered: () => opts.storage.maxBufferedMessages,
    freeSpace: (bytes) => limits(bytes),
    written: (bytes) => {
      usage += bytes;
      if (usage > opts.storage.maxLocalBytes && !enforcing) background('limits', limits());
    },
    now,
  });

  const record = (severity: Severity, category: unknown, text: unknown, details?: unknown, exception?: unknown): void => {
    try {
      const m: PendingMessage = {
        seq: 0,
        time: now(),
        severity,
        category: typeof category === 'string' && category !== '' && category.length <= MESSAGE_LIMITS.maxCategoryLength ? category : normalize.category(category),
        text: typeof text === 'string' && text.length <= MESSAGE_LIMITS.maxTextLength ? text : normalize.text(text),
      };
      if (opts.beforeLog && !applyBeforeLog(m, details, exception)) return;
      if (!opts.beforeLog) {
        if (details !== undefined) m.detailsJson = normalize.safeJson(details);
        if (exception !== undefined) m.exception = normalize.exceptionInfo(exception);
      }
      m.seq = ++seq;
      writer.push(m);
      if (severity === 'error' || severity === 'critical') queueAlert(m);
    } catch (e) {
      reportInternalError('log', e);
    }
  };

  /** Runs the app's scrubbing hook; false when it dropped the message. */
  const applyBeforeLog = (m: PendingMessage, details: unknown, exception: unknown): boolean => {
    const hook = opts.beforeLog;
    if (!hook) return true;
    let out: ReturnType<typeof hook>;
    try {
      out = hook({
        time: m.time,
        severity: m.severity,
        category: m.category,
        text: m.text,
        details,
        exception: exception === undefined ? undefined : normalize.exceptionInfo(exception),
      });
    } catch (e) {
      // A scrubber that fails must not let unscrubbed data through: drop the message.
      warnOnce('beforeLog-throw', 'beforeLog threw; the message was dropped', e);
      out = null;
    }
    if (!out || typeof out !== 'object') {
      rec.dropped.beforeLog++;
      return false;
    }
    m.category = normalize.category(out.category);
    m.text = normalize.text(out.text);
    if (out.details !== undefined) m.detailsJson = normalize.safeJson(out.details);
    if (out.exception !== undefined) m.exception = normalize.exceptionInfo(out.exception);
    return true;
  };

  let alertQueue: BeforeLogMessage[] = [];
  let lastErrorSend = -Infinity;
  let sender: Sender | undefined;
  let senderLoading = false;
  let consent = false;

  const queueAlert = (m: PendingMessage): void => {
    if (alertQueue.length === 0) setTimeout(fireAlert, 0);
    if (alertQueue.length < 100) {
      const copy: BeforeLogMessage = { time: m.time, severity: m.severity, category: m.category, text: m.text, exception: m.exception };
      alertQueue.push(copy);
    }
  };

  const fireAlert = (): void => {
    const messages = alertQueue;
    alertQueue = [];
    const s = opts.server;
    const alert: AlertEvent = { messages, sendSession: s.autoSendSessions && s.autoSendOnError, minimumDelayMs: s.minimumNotificationDelayMs };
    events.emit('alert', alert);
    if (!alert.sendSession || now() - lastErrorSend < alert.minimumDelayMs) return;
    lastErrorSend = now();
    // Stored first, then the elected sender sends this running session as it stands; the
    // complete session follows once it has ended.
    const id = rec.id;
    background(
      'error send',
      writer.flush().then(() => requestSend('error', id)),
    );
  };

  const consentOk = (): boolean => !opts.consent.required || consent;

  // Asked for before the sender has started (an error in the first moments of a page): kept,
  // and passed on once it starts.
  let askedEarly: { reason: 'error' | 'request'; sessionId?: string }[] = [];
  const requestSend = (reason: 'error' | 'request', sessionId?: string): void => {
    if (sender) sender.requestSend(reason, sessionId);
    else if (opts.server.url && opts.server.autoSendSessions && askedEarly.length < 10) askedEarly.push({ reason, sessionId });
  };

  const maybeStartSender = (): void => {
    const s = opts.server;
    const database = db;
    if (sender || senderLoading || !database || !s.url || !s.ingestKey || !s.autoSendSessions) return;
    senderLoading = true;
    background(
      'sender',
      import('../send/sender.js')
        .then((m) => {
          if (stopped || !opts.server.autoSendSessions) return;
          sender = m.startSender(api, {
            compress: (id) => loadWorkerCompress().then((m) => m.compressInWorker(opts.workerUrl, scriptUrl, opts.product, id)),
            allowed: consentOk,
            locks,
            now,
            onState: (st) => events.emit('state', st),
          });
          for (const a of askedEarly) sender.requestSend(a.reason, a.sessionId);
          askedEarly = [];
        })
        .finally(() => (senderLoading = false)),
    );
  };

  /** Keeps the service worker's copy of where and whether to send (it has no page to ask). */
  const recordSendTarget = (): void => {
    const s = opts.server;
    const database = db;
    if (!database || !s.url || !s.ingestKey) return;
    background(
      'send target',
      import('../../core/db/sendTarget.js').then((m) =>
        m.saveSendTarget(database, {
          url: s.url!,
          ingestKey: s.ingestKey!,
          product: opts.product,
          application: s.sendAllApplications ? undefined : opts.application,
          purge: s.purgeSentSessions,
          autoSend: s.autoSendSessions && consentOk(),
        }),
      ),
    );
  };

  const registerServiceWorker = (): void => {
    const sw = opts.serviceWorker;
    if (!sw || !('serviceWorker' in navigator)) return;
    background(
      'service worker',
      import('workbox-window').then(({ Workbox }) => new Workbox(sw.url, { scope: '/' }).register()),
    );
  };

  /** sendSessionsOnExit: the service worker sends the session, with full detail, once the page is gone. */
  const handOverOnExit = (): void => {
    const controller = navigator.serviceWorker?.controller;
    if (!opts.server.sendSessionsOnExit || !controller || !consentOk() || !db) return;
    const message: PageToServiceWorker = { type: 'ferry:send-on-exit', product: opts.product, sessionId: rec.id };
    controller.postMessage(message);
  };

  const stopSender = (): void => {
    sender?.stop();
    sender = undefined;
  };

  const startCapture = (): void => {
    for (const c of captures) c.stop();
    captures = [];
    if (opts.capture.errors) captures.push(captureErrors(record, win));
    if (opts.capture.rejections) captures.push(captureRejections(record, win));
    if (opts.capture.console) captures.push(captureConsole(record));
  };

  const openStore = async (): Promise<void> => {
    try {
      const opened = await openDatabase(opts.product);
      db = opened.db;
      const watermark = readWatermark(opts.product);
      const reset = detectReset(opened.created, watermark, now());
      if (reset) rec.storageReset = reset;
      let instance = await getMeta<{ id: string; createdAt: number }>(db, 'instance');
      if (!instance) {
        instance = { id: crypto.randomUUID(), createdAt: now() };
        await putMeta(db, 'instance', instance);
      }
      const sessions = await db.count('sessions');
      writeWatermark(opts.product, { instance: instance.id, sessions: sessions + 1, lastSessionStartedAt: rec.startedAt });
    } catch (e) {
      db = undefined;
      rec.persistence = 'memory';
      warnOnce('no-idb', 'IndexedDB is unavailable; keeping a bounded in-memory buffer for this session', e);
    }
  };

  /** Takes the live lock, then makes the session visible: never running-without-lock. */
  const beginSession = async (): Promise<void> => {
    lock = holdLiveLock(rec.id, locks);
    await lock.acquired;
    if (db) {
      await db.put('sessions', structuredClone(rec));
      if (!locks) {
        heartbeat = setInterval(() => {
          rec.heartbeatAt = now();
          const database = db;
          if (database) background('heartbeat', database.put('sessions', structuredClone(rec)));
        }, HEARTBEAT.everyMs);
      }
    }
    markReady();
    events.emit('session', toSummary(rec));
  };

  const checkCrashedSessions = async (): Promise<string[]> => {
    if (!db) return [];
    const endedAt = readEndMarks(opts.product);
    const ids = await markCrashedSessions(db, { locks, now, exclude: rec.id, endedAt });
    // A mark is done with once its session is no longer running (ended by either write); a
    // tab still closing may yet need its own.
    for (const id of endedAt.keys()) {
      const s = await db.get('sessions', id);
      if (s?.status !== 'running') clearEnded(opts.product, id);
    }
    if (ids.length) events.emit('crashed', ids);
    return ids;
  };

  const start = async (): Promise<void> => {
    await openStore();
    await beginSession();
    if (!db) return;
    consent = (await getMeta<{ granted: boolean }>(db, 'consent'))?.granted === true;
    await checkCrashedSessions();
    await limits();
    recordSendTarget();
    registerServiceWorker();
    maybeStartSender();
    try {
      void navigator.storage?.persist?.().catch(() => false);
    } catch {
      // not offered here
    }
  };

  const endSession = (): Promise<void> => {
    if (heartbeat !== undefined) clearInterval(heartbeat);
    heartbeat = undefined;
    const held = lock;
    lock = undefined;
    const endedAt = now();
    const id = rec.id;
    if (rec.persistence !== 'memory') markEnded(opts.product, id, endedAt);
    const done = writer.flushOnExit((r) => {
      if (r.status === 'running') {
        r.status = 'ended';
        r.endedAt = endedAt;
      }
    });
    // The lock is released only once the 'ended' record is stored, so no other tab can see
    // a running session without its lock (and call it crashed).
    void done.then((stored) => (stored ? clearEnded(opts.product, id) : undefined)).finally(() => held?.release());
    return done.then(() => undefined);
  };

  const onPageHide = (): void => {
    if (stopped) return;
    background('pagehide', endSession());
    handOverOnExit();
  };

  const onPageShow = (e: PageTransitionEvent): void => {
    if (!e.persisted || stopped) return;
    // Restored from the back/forward cache: a new document lifetime, so a new session.
    rec = newSessionRecord(opts, now());
    if (!db) rec.persistence = 'memory';
    seq = 0;
    sessionReady = new Promise<void>((r) => (markReady = r));
    background('pageshow', beginSession());
  };

  const onVisibility = (): void => {
    if (document.visibilityState === 'hidden') background('flush', writer.flush());
  };

  win.addEventListener('pagehide', onPageHide);
  win.addEventListener('pageshow', onPageShow);
  document.addEventListener('visibilitychange', onVisibility);
  startCapture();
  const ready = start().catch((e: unknown) => {
    reportInternalError('start', e);
    markReady();
  });

  const configure = (change: Partial<FerryOptions>): void => {
    const problems = findProblems(change, true);
    for (const k of ['product', 'application', 'version'] as const)
      if (change[k] !== undefined && change[k] !== opts[k]) problems.push(`${k}: cannot change after init`);
    if (problems.length) {
      warnOnce(`configure:${problems.join()}`, `configure() ignored: ${problems.join('; ')}`);
      return;
    }
    const before = opts;
    opts = mergeOptions(opts, change);
    if (change.capture) startCapture();
    if (change.server) {
      recordSendTarget();
      if (opts.server.autoSendSessions) maybeStartSender();
      else stopSender();
    }
    if (change.serviceWorker && !before.serviceWorker) registerServiceWorker();
    if (change.storage && (opts.storage.maxLocalBytes < before.storage.maxLocalBytes || opts.storage.maxLocalAgeDays < before.storage.maxLocalAgeDays))
      background('limits', limits());
  };

  const api: Agent = {
    record,
    configure,
    flush: () => writer.flush(),
    stop: async () => {
      if (stopped) return;
      stopped = true;
      for (const c of captures) c.stop();
      win.removeEventListener('pagehide', onPageHide);
      win.removeEventListener('pageshow', onPageShow);
      document.removeEventListener('visibilitychange', onVisibility);
      await ready;
      stopSender();
      await writer.flush();
      await endSession();
    },
    sessionId: () => rec.id,
    summary: () => toSummary(rec),
    options: () => opts,
    checkCrashedSessions,
    sendNow: () => requestSend('request'),
    setConsent: async (granted) => {
      consent = granted;
      if (db) await putMeta(db, 'consent', { granted, at: now() });
      recordSendTarget();
      if (granted) requestSend('request');
    },
    consentGranted: () => consent,
    ready,
    database: () => db,
    memoryMessages: () => writer.memory(),
    on: (event, handler) => events.on(event, handler),
  };
  return api;
};
