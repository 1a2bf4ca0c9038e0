/**
 * The start-up consent question (the Loupe agent's consent prompt): company, service and privacy
 * policy from `init({ consent })`. Always safe to call: it shows only while the user has not
 * answered and fewer than `consent.promptLimit` prompts were shown (counted in `meta`, so the
 * limit holds across reloads and tabs). The answer is stored by `setConsent`, its one copy.
 */
import { countConsentPrompt } from '../../core/db/consentPrompt.js';
import { getMeta } from '../../core/db/meta.js';
import { h, mountHost, trapFocus, uid } from './dom.js';
import type { UiHost } from './host.js';
import { fill, mergeLabels } from './labels.js';
import type { ConsentDialogOptions } from './types.js';

let opened: Promise<boolean | undefined> | undefined;
/** Prompts shown in this page when there is no database (memory mode): the limit still holds for the page. */
let shownInMemory = 0;

/** Resolves with the user's answer, or undefined when it was not asked (answered before, limit reached) or dismissed. */
export const showConsentDialog = async (host: UiHost, o: ConsentDialogOptions = {}): Promise<boolean | undefined> => {
  await host.ready;
  if (host.consentAnswered()) return host.consentGranted();
  if (opened) return opened;
  const limit = host.options().consent.promptLimit;
  const db = host.database();
  const shown = db ? ((await getMeta(db, 'consentPrompt'))?.shown ?? 0) : shownInMemory;
  if (shown >= limit || host.consentAnswered() || opened) return opened ?? (host.consentAnswered() ? host.consentGranted() : undefined);
  opened = new Promise<boolean | undefined>((resolve) => {
    const finish = (answer: boolean | undefined): void => {
      opened = undefined;
      resolve(answer);
    };
    void (db ? countConsentPrompt(db, host.now()) : Promise.resolve(++shownInMemory)).catch(() => 0);
    build(host, o, finish);
  });
  return opened;
};

const build = (host: UiHost, o: ConsentDialogOptions, done: (answer: boolean | undefined) => void): void => {
  const L = mergeLabels(host.options().labels, o.labels);
  const c = host.options().consent;
  const company = c.companyName ?? host.options().product;
  const service = c.serviceName ?? host.options().application;
  const ui = mountHost('consent');
  const titleId = uid('title');
  const textId = uid('text');
  let answer: boolean | undefined;
  const choose = (granted: boolean) => () => {
    answer = granted;
    void host.setConsent(granted);
    dialog.close();
  };
  const dialog = h(
    'dialog',
    { class: 'ui', 'aria-labelledby': titleId, 'aria-describedby': textId },
    h(
      'div',
      { class: 'pad' },
      h('h2', { id: titleId }, fill(L.consentTitle, { company, service })),
      h('p', { id: textId }, fill(L.consentText, { company, service })),
      c.privacyPolicyUrl ? h('p', {}, h('a', { href: c.privacyPolicyUrl, target: '_blank', rel: 'noopener' }, L.consentPrivacy)) : false,
      h(
        'div',
        { class: 'actions' },
        h('button', { type: 'button', onclick: choose(false) as EventListener }, L.consentDeny),
        h('button', { type: 'button', class: 'primary', onclick: choose(true) as EventListener }, L.consentAllow),
      ),
    ),
  );
  ui.root.append(dialog);
  trapFocus(dialog, ui.root);
  // Answered in another tab meanwhile: this question is moot.
  const off = host.on('consent', ({ granted }) => {
    if (answer !== undefined) return;
    answer = granted;
    dialog.close();
  });
  dialog.addEventListener('close', () => {
    off();
    ui.remove();
    done(answer);
  });
  dialog.showModal();
  // Neither answer is preselected for the user: focus starts on the question's text.
  dialog.querySelector<HTMLElement>('button.primary')?.focus();
};
