/**
 * The error notice (the Loupe Error Manager for the browser): after an uncaught error or
 * rejection, a small dismissible notice in a corner — never modal, never taking the focus —
 * offering to report the problem now, or at the end of this session. At most one at a time, and
 * one per `NOTICE_INTERVAL_MS`.
 */
import { h, mountHost } from './dom.js';
import type { UiHost } from './host.js';
import { mergeLabels } from './labels.js';

export const NOTICE_INTERVAL_MS = 30_000;

let shownAt = Number.NEGATIVE_INFINITY;
let current: (() => void) | undefined;

/** Shows the notice unless one is showing or one was shown less than the interval ago; true when shown. */
export const showErrorNotice = (host: UiHost): boolean => {
  const now = host.now();
  if (current || now - shownAt < NOTICE_INTERVAL_MS || typeof document === 'undefined') return false;
  shownAt = now;
  const L = mergeLabels(host.options().labels);
  const o = host.options();
  const ui = mountHost('notice');
  const dismiss = (): void => {
    current = undefined;
    ui.remove();
  };
  current = dismiss;
  // Sending at exit needs a collector, and consent where it is required.
  const canAuto = Boolean(o.server.url && o.server.ingestKey) && (!o.consent.required || host.consentGranted()) && !host.sendsOnExit();
  const actions = h(
    'div',
    { class: 'actions' },
    h(
      'button',
      {
        type: 'button',
        class: 'primary',
        onclick: (() => {
          dismiss();
          void host.report({ criteria: ['active'] });
        }) as EventListener,
      },
      L.noticeReport,
    ),
    canAuto &&
      h(
        'button',
        {
          type: 'button',
          onclick: (() => {
            host.setSendSessionsOnExit(true);
            const done = h('p', { class: 'muted', role: 'status' }, L.noticeAutomaticOn);
            actions.replaceWith(done);
            setTimeout(dismiss, 6_000);
          }) as EventListener,
        },
        L.noticeAutomatic,
      ),
  );
  const box = h(
    'section',
    {
      class: 'ui notice',
      'aria-label': L.noticeText,
      onkeydown: ((e: KeyboardEvent) => {
        if (e.key === 'Escape') dismiss();
      }) as EventListener,
    },
    // role=alert is announced at once by screen readers without moving the focus.
    h('p', { role: 'alert' }, L.noticeText),
    actions,
    h('button', { type: 'button', class: 'x', 'aria-label': L.noticeDismiss, title: L.noticeDismiss, onclick: dismiss as EventListener }, '×'),
  );
  ui.root.append(box);
  return true;
};
