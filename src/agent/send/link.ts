/**
 * Everything between this page and sending: the lazily loaded sender (started only when sending
 * is configured), the send target the service worker reads, the service worker's registration,
 * and the hand-over of the session at exit (sendSessionsOnExit).
 */
import type { SenderState } from '../../shared/channel.js';
import { SEND_ON_EXIT } from '../../shared/names.js';
import type { PageToServiceWorker } from '../../shared/sw-protocol.js';
import { putMeta } from '../../core/db/meta.js';
import type { FerryDatabase } from '../../core/db/open.js';
import type { ResolvedOptions } from '../config/options.js';
import { loadWorkerCompress, scriptUrl } from '../packager/loader.js';
import { background, warnOnce } from '../tools/monitor.js';
import type { ConsentState } from './consent.js';
import type { Sender } from './sender.js';

export type SendReason = 'error' | 'request';

export interface SendLinkDeps {
  options: () => ResolvedOptions;
  database: () => FerryDatabase | undefined;
  sessionId: () => string;
  consent: ConsentState;
  markCrashed: () => Promise<string[]>;
  locks: LockManager | undefined;
  now: () => number;
  state: (s: SenderState) => void;
  /** The agent was stopped: a sender that finishes loading now is not started. */
  stopped: () => boolean;
}

export interface SendLink {
  /** After start-up: records the send target, registers the service worker, starts the sender. */
  start(): void;
  /** Asks the elected sender to check now; `sessionId` (after an error) is sent as it stands. */
  requestSend(reason: SendReason, sessionId?: string): void;
  /** Options changed at run time. */
  reconfigure(before: ResolvedOptions): void;
  /** pagehide: hands the session to the service worker when sendSessionsOnExit asks for it. */
  exit(): void;
  stop(): void;
}

/** Requests made before the sender has loaded (an error in a page's first moments) wait for it, up to this many. */
const MAX_EARLY_REQUESTS = 10;

export const createSendLink = (deps: SendLinkDeps): SendLink => {
  let sender: Sender | undefined;
  let loading = false;
  let early: { reason: SendReason; sessionId?: string }[] = [];

  const maybeStartSender = (): void => {
    const o = deps.options();
    const s = o.server;
    if (sender || loading || !deps.database() || !s.url || !s.ingestKey || !s.autoSendSessions) return;
    loading = true;
    background(
      'sender',
      import('./sender.js')
        .then((m) => {
          if (deps.stopped() || !deps.options().server.autoSendSessions) return;
          sender = m.startSender(
            {
              product: o.product,
              application: o.application,
              tabId: deps.sessionId(),
              server: () => deps.options().server,
              database: deps.database,
              markCrashed: deps.markCrashed,
              allowed: deps.consent.allowed,
            },
            {
              compress: (id) => loadWorkerCompress().then((w) => w.compressInWorker(deps.options().workerUrl, scriptUrl, o.product, id)),
              locks: deps.locks,
              now: deps.now,
              onState: deps.state,
            },
          );
          for (const a of early) sender.requestSend(a.reason, a.sessionId);
          early = [];
        })
        .finally(() => (loading = false)),
    );
  };

  const stopSender = (): void => {
    sender?.stop();
    sender = undefined;
  };

  /** Keeps what the service worker needs to send without a page (it has no options of its own). */
  const recordSendTarget = (): void => {
    const o = deps.options();
    const s = o.server;
    const db = deps.database();
    if (!db || !s.url || !s.ingestKey) return;
    background(
      'send target',
      putMeta(db, 'sendTarget', {
        url: s.url,
        ingestKey: s.ingestKey,
        product: o.product,
        application: s.sendAllApplications ? undefined : o.application,
        purge: s.purgeSentSessions,
        autoSend: s.autoSendSessions,
        consentRequired: o.consent.required,
      }),
    );
  };

  const registerServiceWorker = (): void => {
    const sw = deps.options().serviceWorker;
    if (!sw || !('serviceWorker' in navigator)) return;
    background(
      'service worker',
      import('workbox-window').then(({ Workbox }) => new Workbox(sw.url, { scope: '/' }).register()),
    );
  };

  return {
    start() {
      recordSendTarget();
      registerServiceWorker();
      maybeStartSender();
    },
    requestSend(reason, sessionId) {
      const s = deps.options().server;
      if (sender) sender.requestSend(reason, sessionId);
      else if (s.url && s.autoSendSessions && early.length < MAX_EARLY_REQUESTS) early.push({ reason, sessionId });
    },
    reconfigure(before) {
      const o = deps.options();
      if (o.server !== before.server || o.consent !== before.consent) {
        recordSendTarget();
        if (o.server.autoSendSessions) maybeStartSender();
        else stopSender();
      }
      if (o.serviceWorker && !before.serviceWorker) registerServiceWorker();
    },
    exit() {
      const o = deps.options();
      if (!o.server.sendSessionsOnExit || !deps.database()) return;
      const controller = navigator.serviceWorker?.controller;
      if (!controller) {
        warnOnce('exit-no-sw', 'sendSessionsOnExit is set but no service worker controls this page; the session is sent by the next sender pass instead');
        return;
      }
      if (o.consent.required && !deps.consent.granted()) return;
      const message: PageToServiceWorker = { type: SEND_ON_EXIT, product: o.product, sessionId: deps.sessionId() };
      controller.postMessage(message);
    },
    stop: stopSender,
  };
};
