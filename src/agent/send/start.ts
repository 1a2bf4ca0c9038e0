/**
 * The send side that only a page with a collector (or a service worker) needs, loaded after
 * start-up: the send target the service worker reads, the service worker's registration, and
 * the sender itself (loaded in turn only while automatic sending is on).
 */
import { putMeta } from '../../core/db/meta.js';
import type { ChannelMessage } from '../../shared/channel.js';
import { AGENT_BASE_PARAM, channelName, SEND_ON_EXIT } from '../../shared/names.js';
import type { PageToServiceWorker } from '../../shared/sw-protocol.js';
import type { ResolvedOptions } from '../config/options.js';
import { loadExitSend, loadWorkerCompress } from '../packager/loader.js';
import { lazyPart } from '../tools/lazyPart.js';
import { background } from '../tools/monitor.js';
import type * as SenderModule from './sender.js';
import type { Sender } from './sender.js';
import type { SendLinkDeps, SendReason } from './types.js';

export interface SendSide {
  requestSend(reason: SendReason, sessionId?: string): void;
  retryParked(): Promise<number>;
  reconfigure(before: ResolvedOptions): void;
  exit(): void;
  stop(): void;
}

/**
 * Tells the ready-made service worker where the agent's own files are, so it can precache them
 * (src/sw/precache.ts) — only when the agent runs from its dist/ files as built (`ferry.js`,
 * `ferry.iife.js`); an app's bundler renames them, and that app's own service worker caches them.
 */
const withAgentBase = (serviceWorkerUrl: string, scriptUrl: string | undefined): string => {
  if (!scriptUrl) return serviceWorkerUrl;
  try {
    const script = new URL(scriptUrl);
    if (!/\/ferry(\.iife)?\.js$/.test(script.pathname)) return serviceWorkerUrl;
    const url = new URL(serviceWorkerUrl, location.href);
    url.searchParams.set(AGENT_BASE_PARAM, new URL('.', script).href);
    return url.href;
  } catch {
    return serviceWorkerUrl;
  }
};

export const startSendSide = (deps: SendLinkDeps, early: readonly { reason: SendReason; sessionId?: string }[]): SendSide => {
  let sender: Sender | undefined;
  let senderModule: typeof SenderModule | undefined;
  let pending = [...early];

  const senderPart = lazyPart({
    what: 'sender',
    load: () => import('./sender.js'),
    ready: (m) => {
      senderModule = m;
      maybeStartSender();
    },
    stopped: deps.stopped,
  });

  const maybeStartSender = (): void => {
    const o = deps.options();
    const s = o.server;
    if (sender || deps.stopped() || !deps.database() || !s.url || !s.ingestKey || !s.autoSendSessions) return;
    if (!senderModule) {
      senderPart.load();
      return;
    }
    sender = senderModule.startSender(
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
        compress: (id) => loadWorkerCompress(deps.scriptUrl).then((w) => w.compressInWorker(deps.options().workerUrl, o.product, id)),
        locks: deps.locks,
        now: deps.now,
        onState: deps.state,
      },
    );
    for (const a of pending) sender.requestSend(a.reason, a.sessionId);
    pending = [];
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

  let registration: ReturnType<typeof lazyPart> | undefined;
  const registerServiceWorker = (): void => {
    const sw = deps.options().serviceWorker;
    if (!sw || !('serviceWorker' in navigator)) return;
    registration?.cancel();
    registration = lazyPart({
      what: `service worker registration (${sw.url})`,
      load: () => import('workbox-window').then(({ Workbox }) => new Workbox(withAgentBase(sw.url, deps.scriptUrl), { scope: '/' }).register()),
      ready: () => {},
      stopped: deps.stopped,
    });
    registration.load();
  };

  recordSendTarget();
  registerServiceWorker();
  maybeStartSender();
  let exitSend: { stop(): void } | undefined;
  background(
    'exit send',
    loadExitSend(deps.scriptUrl).then((m) => {
      if (!deps.stopped()) exitSend = m.startExitSend(deps);
    }),
  );

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
      if (!deps.sendsOnExit() || !deps.database()) return;
      if (o.consent.required && !deps.consent.granted()) return;
      const controller = navigator.serviceWorker?.controller;
      // No service worker: the session's record carries the mark; another tab (told now) or the next page load sends it.
      if (!controller) {
        const channel = new BroadcastChannel(channelName(o.product));
        const message: ChannelMessage = { type: 'exit-send', sessionId: deps.sessionId() };
        channel.postMessage(message);
        channel.close();
        return;
      }
      const message: PageToServiceWorker = { type: SEND_ON_EXIT, product: o.product, sessionId: deps.sessionId() };
      controller.postMessage(message);
    },
    stop() {
      senderPart.cancel();
      registration?.cancel();
      stopSender();
      exitSend?.stop();
    },
  };
};
