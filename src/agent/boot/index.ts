/**
 * Ferry page agent: `init()` once, then `log.*` anywhere. No function here throws into the app,
 * `init` included (invalid options are named on the console and leave the agent off).
 */
import type { SenderState } from '../../shared/channel.js';
import type { ContextValue, SessionUser } from '../../shared/context.js';
import type { Severity } from '../../shared/severity.js';
import type { SessionSummary } from '../../shared/summary.js';
import { AGENT_VERSION } from '../../shared/version.js';
import { type FerryOptions, findProblems, type ResolvedOptions, resolveOptions, splitProblems } from '../config/options.js';
import { DEFAULT_CATEGORY, readLogArgs } from '../log/args.js';
import { createPackagerApi, loadClear } from '../packager/loader.js';
import type { PackagerApi } from '../packager/types.js';
import { createContextState } from '../session/context.js';
import type { Handler } from '../tools/emitter.js';
import { callMonitored, monitorError, warnOnce } from '../tools/monitor.js';
import { createUiApi, defineReportButton } from '../ui/loader.js';
import type { ConsentDialogOptions, ReportDialogOptions, ReportDialogResult } from '../ui/types.js';
import type { AgentEvents } from './events.js';
import { scriptUrl } from './scriptUrl.js';
import { type Agent, startAgent } from './startAgent.js';

export type { SenderState } from '../../shared/channel.js';
export type { ContextValue, SessionContext, SessionUser } from '../../shared/context.js';
export type { ExceptionInfo, LogMessage } from '../../shared/message.js';
export type { Severity } from '../../shared/severity.js';
export type { LossAccounting, SessionStatus, SessionSummary, StorageReset } from '../../shared/summary.js';
export type {
  BeforeLog,
  BeforeLogMessage,
  BeforeSummary,
  CaptureOptions,
  ConsentOptions,
  FerryOptions,
  PackagerOptions,
  PrivacyOptions,
  ServerOptions,
  StorageOptions,
} from '../config/options.js';
export type {
  Destination,
  DestinationKind,
  PackageCriterion,
  PackageProblem,
  PackagerApi,
  PackagerEvents,
  PackagerPhase,
  PackagerProgress,
  PreviewOptions,
  SendOptions,
  SendResult,
} from '../packager/types.js';
export type { ConsentDialogOptions, Labels, ReportDialogOptions, ReportDialogResult } from '../ui/types.js';
export type { AgentEvents, AlertEvent, InitializeEvent } from './events.js';

export const VERSION = AGENT_VERSION;

/** Calls made before init() are kept (up to this many) and logged once the agent starts. */
const EARLY_LIMIT = 1000;
type Call = [Severity, unknown, unknown, unknown, unknown];
let early: Call[] = [];
let agent: Agent | undefined;
/** The product of the last agent started: clearLocalData() after the agent has gone still knows what to delete. */
let product: string | undefined;
/** User and context tags: set before init too, and kept for the page's sessions. */
const context = createContextState();

/** The agent's data was deleted (here or by another tab): it has stopped, and init() may start a fresh one. */
const forget = (): void => {
  agent = undefined;
  context.clear();
};

const record = (severity: Severity, category: unknown, text: unknown, details?: unknown, exception?: unknown): void => {
  if (agent) {
    agent.record(severity, category, text, details, exception);
    return;
  }
  try {
    if (early.length < EARLY_LIMIT) early.push([severity, category, text, details, exception]);
    else warnOnce('early-overflow', `more than ${EARLY_LIMIT} messages before init(); later ones are dropped`);
  } catch (e) {
    monitorError('log', e);
  }
};

/**
 * Starts the agent: a new session for this page load. Never throws: invalid options are reported
 * once on the console, each by name, and the agent stays off; unknown options are reported and
 * ignored; a second call is ignored (with a console warning).
 */
export const init = (given: FerryOptions): void => {
  let resolved: ResolvedOptions;
  let options = given;
  try {
    // `initialize` handlers (registered before init) may still change the options: nothing has started.
    if (!agent && typeof given === 'object' && given !== null) {
      const event = { options: { ...given } };
      for (const h of earlyHandlers)
        if (h.event === 'initialize' && !h.removed) callMonitored('initialize handler', () => (h.handler as Handler<typeof event>)(event), undefined);
      options = event.options;
    }
    const { unknown, invalid } = splitProblems(findProblems(options));
    if (unknown.length) warnOnce(`init-unknown:${unknown.join()}`, `init(): unknown options ignored — ${unknown.join('; ')}`);
    if (invalid.length) {
      warnOnce(`init-invalid:${invalid.join()}`, `init(): invalid options, so the agent stays off — ${invalid.join('; ')}`);
      return;
    }
    resolved = resolveOptions(options);
  } catch (e) {
    monitorError('init', e);
    return;
  }
  if (agent) {
    warnOnce('init-twice', 'init() called again; the first configuration stays (use configure() to change options)');
    return;
  }
  if (typeof window === 'undefined' || typeof document === 'undefined') {
    warnOnce('no-window', 'init() outside a page (no window); the agent stays off');
    return;
  }
  try {
    const a = startAgent(resolved, { scriptUrl, context, cleared: forget, uncaught: () => void ui('notice').catch(() => {}) });
    agent = a;
    product = resolved.product;
    for (const h of earlyHandlers) if (!h.removed) h.off = a.on(h.event, h.handler as Handler<AgentEvents[typeof h.event]>);
    earlyHandlers = [];
    const calls = early;
    early = [];
    for (const c of calls) a.record(...c);
    defineReportButton(() => void showReportDialog());
  } catch (e) {
    monitorError('init', e);
  }
};

/** One log method: Loupe's `(category, text, details?)`, or JavaScript's `(text or Error, details?)`. */
export interface LogMethod {
  /** A category (what part of the app), the text, and optional JSON-able details; an Error among them becomes the exception. */
  (category: string, text: string, details?: unknown): void;
  /** The text (or an Error, whose message becomes the text and whose stack and causes are kept), and optional details. */
  (text: string | Error, details?: unknown): void;
  /** The text, the Error behind it, and optional details. */
  (text: string, error: Error, details?: unknown): void;
}

/** A log method of a logger bound to a category (createLogger). */
export interface BoundLogMethod {
  (text: string | Error, details?: unknown): void;
  (text: string, error: Error, details?: unknown): void;
}

export interface ExceptionOptions {
  severity?: Severity;
  category?: string;
  details?: unknown;
}

const SEVERITY_NAMES: readonly string[] = ['critical', 'error', 'warning', 'information', 'verbose'];

const method =
  (severity: Severity, category?: string) =>
  (a?: unknown, b?: unknown, c?: unknown): void => {
    try {
      const m = readLogArgs(a, b, c, category);
      record(severity, m.category, m.text, m.details, m.exception);
    } catch (e) {
      monitorError('log', e);
    }
  };

const exceptionMethod =
  (boundCategory?: string) =>
  (error: unknown, options?: ExceptionOptions): void => {
    try {
      const o: ExceptionOptions = typeof options === 'object' && options !== null ? options : {};
      const severity: Severity = o.severity && SEVERITY_NAMES.includes(o.severity) ? o.severity : 'error';
      const text = error instanceof Error ? error.message : error;
      record(severity, o.category ?? boundCategory ?? 'Exception', text, o.details, error === undefined ? { name: 'undefined', message: 'undefined' } : error);
    } catch (e) {
      monitorError('log.exception', e);
    }
  };

export interface Logger<M> {
  critical: M;
  error: M;
  warning: M;
  information: M;
  verbose: M;
  /** Alias of information. */
  info: M;
  /** Alias of warning. */
  warn: M;
  /** Alias of verbose. */
  debug: M;
  /** Logs an Error (or any thrown value) with its stack and causes; severity `error` unless given. */
  exception(error: unknown, options?: ExceptionOptions): void;
}

const makeLogger = <M>(category?: string): Logger<M> => {
  const m = (s: Severity) => method(s, category) as unknown as M;
  return {
    critical: m('critical'),
    error: m('error'),
    warning: m('warning'),
    information: m('information'),
    verbose: m('verbose'),
    info: m('information'),
    warn: m('warning'),
    debug: m('verbose'),
    exception: exceptionMethod(category),
  };
};

/** The logging API. Every method is safe to call with any arguments, before or after init. */
export const log: Logger<LogMethod> = makeLogger<LogMethod>();

/** A logger whose messages all go under `category`: `const http = createLogger('Http'); http.warn('slow', { ms })`. */
export const createLogger = (category: string): Logger<BoundLogMethod> =>
  makeLogger<BoundLogMethod>(typeof category === 'string' && category !== '' ? category : DEFAULT_CATEGORY);

/** A public call on the running agent: `fallback` before init, and whenever it would throw. */
const guard = <T>(where: string, fn: (a: Agent) => T, fallback: T): T => callMonitored(where, () => (agent ? fn(agent) : fallback), fallback);

const guardAsync = <T>(where: string, fn: (a: Agent) => Promise<T>, fallback: T): Promise<T> => guard(where, fn, Promise.resolve(fallback));

/** Changes options at run time (opt-in to sending, capture, limits). Invalid changes are ignored with a warning. */
export const configure = (change: Partial<FerryOptions>): void => guard('configure', (a) => a.configure(change), undefined);

/** Writes buffered messages to IndexedDB now. */
export const flush = (): Promise<void> => guardAsync('flush', (a) => a.flush(), undefined);

/** Resolves once the agent has opened its database and checked for crashed sessions. */
export const ready = (): Promise<void> => guardAsync('ready', (a) => a.ready, undefined);

/** Ends the current session (as leaving the page does) and stops capture. */
export const stop = (): Promise<void> => guardAsync('stop', (a) => a.stop(), undefined);

/** Marks sessions whose page died without ending them as crashed; returns their ids. */
export const checkCrashedSessions = (): Promise<string[]> => guardAsync('checkCrashedSessions', (a) => a.checkCrashedSessions(), []);

/** Asks the elected sender tab to send eligible sessions now. */
export const sendNow = (): void => guard('sendNow', (a) => a.sendNow(), undefined);

/**
 * Tries every parked session again (sessions the collector refused, kept locally) and asks the
 * sender to check now. Resolves with how many sessions were un-parked; never rejects (on a
 * failure it warns once on the console and resolves 0).
 */
export const retryParked = (): Promise<number> => guardAsync('retryParked', (a) => a.retryParked(), 0);

/** Records the user's consent answer; with `consent.required`, nothing is sent automatically until it is true. */
export const setConsent = (granted: boolean): Promise<void> => guardAsync('setConsent', (a) => a.setConsent(granted === true), undefined);

/** The user's consent answer as this tab last knew it (its one copy is in IndexedDB; other tabs' changes arrive at once); false before any answer. */
export const getConsent = (): boolean => guard('getConsent', (a) => a.consentGranted(), false);

/**
 * Sets who uses the app — `{ id, name?, email? }` (an id may be a number; it is sent as text) — or
 * clears it with null. Kept for the page's sessions; set before init() it applies from the start.
 * Invalid values are ignored with one console warning.
 */
export const setUser = (user: (Omit<SessionUser, 'id'> & { id: string | number }) | null): void =>
  callMonitored('setUser', () => context.setUser(user), undefined);

/**
 * Sets a context tag of the session (a string, finite number or boolean), or removes it with
 * undefined. Keys are 1–64 letters, digits or `_ . : -`; at most 50 tags, strings up to 500
 * characters. Invalid calls are ignored with one console warning.
 */
export const setContext = (key: string, value: ContextValue | undefined): void => callMonitored('setContext', () => context.setContext(key, value), undefined);

/**
 * Deletes everything the agent stored for the product on this origin: the IndexedDB database
 * `ferry:<product>` and the agent's localStorage keys (docs/data-collected.md). The agent stops
 * first — in this tab and in the product's other tabs — without ending or sending the session,
 * and stays stopped; user and context are forgotten. Call init() to start a fresh session (with a
 * new installation id). Never rejects.
 */
export const clearLocalData = (): Promise<void> =>
  callMonitored(
    'clearLocalData',
    async () => {
      const a = agent;
      forget();
      early = [];
      if (a) await a.clearLocalData();
      else if (product !== undefined) await (await loadClear(scriptUrl)).deleteLocalData(product);
      else warnOnce('clear-before-init', 'clearLocalData() before init(): the product is not known, so nothing was deleted');
    },
    Promise.resolve(),
  );

/**
 * The sender's state as this tab last published it (`phase`, `paused` and why, `parked`, …), the
 * same as the latest `state` event; undefined before the sender has started.
 */
export const getState = (): SenderState | undefined => guard('getState', (a) => a.senderState(), undefined);

export const getSessionId = (): string | undefined => guard('getSessionId', (a) => a.sessionId(), undefined);

export const getSessionSummary = (): SessionSummary | undefined => guard('getSessionSummary', (a) => a.summary(), undefined);

/** Handlers registered before init(), attached when the agent starts. */
let earlyHandlers: { event: keyof AgentEvents; handler: Handler<never>; off?: () => void; removed?: boolean }[] = [];

/** Subscribes to agent events (`alert`, `state`, `session`, `crashed`); works before init too. Returns an unsubscribe function. */
export const on = <K extends keyof AgentEvents>(event: K, handler: Handler<AgentEvents[K]>): (() => void) => {
  if (agent)
    return guard(
      'on',
      (a) => a.on(event, handler),
      () => {},
    );
  const entry: (typeof earlyHandlers)[number] = { event, handler: handler as Handler<never> };
  earlyHandlers.push(entry);
  return () => {
    entry.removed = true;
    entry.off?.();
  };
};

/**
 * Packages sessions into a `.ferry.zip` and saves or sends it (docs/packager.md). The packaging
 * code and its worker load on the first call, so they cost nothing at start-up.
 */
export const packager: PackagerApi = createPackagerApi(() => agent, scriptUrl);

/** @internal The packager chunk, for the script-tag build. */
export { __loadClear, __loadExitSend, __loadMigrations, __loadPackager, __loadPrune, __loadWorkerCompress } from '../packager/loader.js';

const ui = createUiApi(() => agent, packager, scriptUrl);

/**
 * Opens the "Report a problem" dialog (docs/ui.md); the same as a click on `<ferry-report-button>`.
 * Its code loads on first use. Resolves when the dialog closes, saying whether a report went;
 * rejects only when the dialog could not be loaded or init() was not called.
 */
export const showReportDialog = (options?: ReportDialogOptions): Promise<ReportDialogResult> =>
  callMonitored('showReportDialog', () => ui('report', options) as Promise<ReportDialogResult>, Promise.resolve({ status: 'closed' }));

/**
 * Asks for consent — only while the user has not answered and `consent.promptLimit` is not used
 * up, so it is safe to call at every start. Resolves with the answer: the stored one, the one the
 * user gave, or undefined when not asked or dismissed.
 */
export const showConsentDialog = (options?: ConsentDialogOptions): Promise<boolean | undefined> =>
  callMonitored('showConsentDialog', () => ui('consent', options) as Promise<boolean | undefined>, Promise.resolve(undefined));

/** Sends this session with full detail once it ends (as `server.sendSessionsOnExit`, for this page), or stops doing so. */
export const setSendSessionsOnExit = (on: boolean): void => guard('setSendSessionsOnExit', (a) => a.setSendSessionsOnExit(on === true), undefined);

/** @internal The dialogs' chunk, for the script-tag build. */
export { __loadUi } from '../ui/loader.js';
