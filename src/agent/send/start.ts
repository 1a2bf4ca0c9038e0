/**
 * The send side that only a page with a collector (or a service worker) needs, loaded after
 * start-up: the send target the service worker reads, the service worker's registration, and
 * the sender itself (loaded in turn only while automatic sending is on).
 */
import { putMeta } from '../../core/db/meta.js';
import { SEND_ON_EXIT } from '../../shared/names.js';
import type { PageToServiceWorker } from '../../shared/sw-protocol.js';
import type { ResolvedOptions } from '../config/options.js';
import { loadWorkerCompress } from '../packager/loader.js';
import { background, warnOnce } from '../tools/monitor.js';
import type { Sender } from './sender.js';
import type { SendLinkDeps, SendReason } from './types.js';

export interface SendSide {
  requestSend(reason: SendReason, sessionId?: string): void;
  retryParked(): Promise<number>;
  reconfigure(before: ResolvedOptions): void;
  exit(): void;
  stop(): void;
}

export const startSendSide = (deps: SendLinkDeps, early: readonly { reason: SendReason; sessionId?: string }[]): SendSide => {
  let sender: Sender | undefined;
  let loading = false;
  let pending = [...early];

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
              compress: (id) => loadWorkerCompress(deps.scriptUrl).then((w) => w.compressInWorker(deps.options().workerUrl, deps.scriptUrl, o.product, id)),
              locks: deps.locks,
              now: deps.now,
              onState: deps.state,
            },
          );
          for (const a of pending) sender.requestSend(a.reason, a.sessionId);
          pending = [];
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

  recordSendTarget();
  registerServiceWorker();
  maybeStartSender();

  return {
    requestSend(reason, sessionId) {
      if (sender) sender.requestSend(reason, sessionId);
      else if (deps.options().server.autoSendSessions && pending.length < 10) pending.push({ reason, sessionId });
    },
    async retryParked() {
      if (sender) return sender.retryParked();
      const db = deps.database();
      return db ? (await (await import('./sender.js')).unparkAll(db, deps.now())).length : 0;
    },
    reconfigure(before) {
      const o = deps.options();
      if (o.server !== before.server || o.consent !== before.consent) {
        recordSendTarget();
        if (o.server.autoSendSessions) maybeStartSender();
        else stopSender();
        // A key or URL fixed after a 401/403: the sender stops waiting out its pause.
        if (o.server.url !== before.server.url || o.server.ingestKey !== before.server.ingestKey) sender?.targetChanged();
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
