/**
 * The "Report a problem" dialog: the user describes the problem, chooses what to include (the
 * packager's criteria, "new + this session" preselected), sees how many sessions and bytes that
 * is, may give a reply-to address, and sends. With a collector it sends there at once; otherwise,
 * or when that fails, it offers email (the collector's relay, else Web Share or `mailto:`), a
 * file and a folder, each as `packager.allow*` permits.
 */
import type { SessionSummary } from '../../shared/summary.js';
import type { Destination, PackageCriterion, PackagerProgress, SendResult } from '../packager/types.js';
import { focusables, h, mountHost, trapFocus, uid } from './dom.js';
import type { UiHost } from './host.js';
import { fill, formatBytes, mergeLabels } from './labels.js';
import type { Labels, ReportDialogOptions, ReportDialogResult } from './types.js';

const CRITERIA: [PackageCriterion, keyof Labels][] = [
  ['active', 'criterionActive'],
  ['new', 'criterionNew'],
  ['error', 'criterionError'],
  ['crashed', 'criterionCrashed'],
  ['critical', 'criterionCritical'],
  ['warning', 'criterionWarning'],
  ['completed', 'criterionCompleted'],
];

type Way = 'server' | 'email' | 'file' | 'folder';

interface SendFailure {
  name?: string;
  message?: string;
  status?: number;
  retryAfterMs?: number;
  body?: { error?: string; detail?: string };
}

/** A PackageSendError (or any error) in the user's words. */
export const explain = (L: Labels, e: unknown): string => {
  const f = (e ?? {}) as SendFailure;
  if (f.name !== 'PackageSendError') return L.errorOther;
  const status = f.status;
  if (status === undefined) return L.errorNetwork;
  if (status === 401 || status === 403) return fill(L.errorKey, { status });
  if (status === 413) return L.errorTooLarge;
  if (status === 429) return fill(L.errorBusy, { seconds: Math.max(1, Math.ceil((f.retryAfterMs ?? 60_000) / 1000)) });
  if (f.body?.error === 'email-failed') return L.errorEmailFailed;
  if (status >= 500) return fill(L.errorServer, { status });
  return fill(L.errorRefused, { status, reason: f.body?.detail || f.body?.error || String(status) });
};

const isRelayMissing = (e: unknown): boolean => {
  const f = (e ?? {}) as SendFailure;
  return f.name === 'PackageSendError' && f.status === 404 && f.body?.error === 'email-not-configured';
};

/** Children without the `false` of a `cond && element`. */
const keep = (...children: (Node | string | false)[]): (Node | string)[] => children.filter((c): c is Node | string => c !== false);

let opened: { dialog: HTMLDialogElement; result: Promise<ReportDialogResult> } | undefined;

export const showReportDialog = (host: UiHost, o: ReportDialogOptions = {}): Promise<ReportDialogResult> => {
  // A dialog closing (its `close` event not yet fired) is as good as gone.
  if (opened?.dialog.open) {
    opened.dialog.focus();
    return opened.result;
  }
  let resolve: (r: ReportDialogResult) => void = () => {};
  const result = new Promise<ReportDialogResult>((r) => (resolve = r));
  const dialog = build(host, o, (r) => {
    opened = undefined;
    resolve(r);
  });
  opened = { dialog, result };
  return result;
};

const build = (host: UiHost, o: ReportDialogOptions, done: (r: ReportDialogResult) => void): HTMLDialogElement => {
  const L = mergeLabels(host.options().labels, o.labels);
  const opts = host.options();
  const allow = opts.packager;
  const server = Boolean(opts.server.url && opts.server.ingestKey && allow.allowServer);
  const known = new Set<string>(CRITERIA.map(([c]) => c));
  const state = {
    description: o.description ?? '',
    replyTo: o.replyTo ?? '',
    criteria: new Set<PackageCriterion>((o.criteria ?? ['new', 'active']).filter((c) => known.has(c))),
  };
  const ui = mountHost('report');
  const titleId = uid('title');
  const introId = uid('intro');
  const body = h('div', { class: 'pad' });
  // Progress and results are announced here; the visible text is in the view itself.
  const live = h('div', { role: 'status', 'aria-live': 'polite', class: 'sr' });
  const dialog = h('dialog', { class: 'ui', 'aria-labelledby': titleId, 'aria-describedby': introId }, body, live);
  ui.root.append(dialog);
  trapFocus(dialog, ui.root);

  let job: AbortController | undefined;
  let outcome: ReportDialogResult = { status: 'closed' };
  let previewSeq = 0;
  const say = (text: string): void => {
    live.textContent = text;
  };
  // Escape while a report is under way stops it (and keeps the dialog); otherwise it closes.
  dialog.addEventListener('cancel', (e) => {
    if (!job) return;
    e.preventDefault();
    job.abort();
  });
  dialog.addEventListener('close', () => {
    job?.abort();
    ui.remove();
    done(outcome);
  });
  const close = (): void => dialog.close();

  const title = (text = L.reportTitle) => h('h2', { id: titleId }, text);
  const button = (text: string, onclick: () => void, primary = false) =>
    h('button', { type: 'button', class: primary ? 'primary' : undefined, onclick: onclick as EventListener }, text);
  const focusFirst = (selector: string): void => {
    const el = body.querySelector<HTMLElement>(selector) ?? focusables(body)[0];
    el?.focus();
  };

  /** The other ways to send, as the options allow (`except` is the one that just failed). */
  const fallbacks = (except?: Way): HTMLButtonElement[] => {
    const out: HTMLButtonElement[] = [];
    if (allow.allowEmail) out.push(button(L.email, () => void run('email', except === 'email')));
    if (allow.allowFile) out.push(button(L.file, () => void run('file')));
    if (allow.allowFolder) out.push(button(L.folder, () => void run('folder')));
    return out;
  };

  const showForm = (message?: string): void => {
    const descId = uid('desc');
    const descHint = uid('desc-hint');
    const replyId = uid('reply');
    const replyHint = uid('reply-hint');
    const selection = h('output', { 'aria-live': 'polite' });
    const ways: HTMLButtonElement[] = server ? [button(L.send, () => void run('server'), true)] : fallbacks();
    if (!server && ways[0]) ways[0].className = 'primary';
    const count = async (): Promise<void> => {
      const seq = ++previewSeq;
      const criteria = [...state.criteria];
      const enable = (on: boolean) => {
        for (const b of ways) b.disabled = !on;
      };
      if (criteria.length === 0) {
        selection.textContent = L.selectionNone;
        enable(false);
        return;
      }
      selection.textContent = L.selectionCounting;
      try {
        const sessions = await host.packager.preview({ criteria, application: o.application });
        if (seq !== previewSeq) return;
        const bytes = sessions.reduce((n, s) => n + s.bytes, 0);
        selection.textContent = sessions.length ? fill(L.selection, { count: sessions.length, size: formatBytes(bytes) }) : L.selectionNone;
        enable(sessions.length > 0);
      } catch {
        // Counting failed (no worker, say): sending still tries and says what went wrong.
        if (seq === previewSeq) selection.textContent = '';
      }
    };
    const checks = CRITERIA.map(([criterion, label]) => {
      const id = uid('criterion');
      return h(
        'div',
        { class: 'check' },
        h('input', {
          type: 'checkbox',
          id,
          value: criterion,
          checked: state.criteria.has(criterion),
          onchange: ((e: Event) => {
            if ((e.target as HTMLInputElement).checked) state.criteria.add(criterion);
            else state.criteria.delete(criterion);
            void count();
          }) as EventListener,
        }),
        h('label', { for: id }, L[label]),
      );
    });
    body.replaceChildren(
      ...keep(
        title(),
        h('p', { id: introId, class: 'muted' }, L.reportIntro),
        message ? h('p', { class: 'error', role: 'alert' }, message) : false,
        h('label', { for: descId }, L.description, h('span', { id: descHint, class: 'hint' }, L.descriptionHint)),
        h('textarea', {
          id: descId,
          name: 'description',
          'aria-describedby': descHint,
          maxlength: 10_000,
          value: state.description,
          oninput: ((e: Event) => (state.description = (e.target as HTMLTextAreaElement).value)) as EventListener,
        }),
        h('fieldset', {}, h('legend', {}, L.include), ...checks, selection),
        h('label', { for: replyId }, L.replyTo, h('span', { id: replyHint, class: 'hint' }, L.replyToHint)),
        h('input', {
          type: 'email',
          id: replyId,
          name: 'replyTo',
          autocomplete: 'email',
          'aria-describedby': replyHint,
          maxlength: 320,
          value: state.replyTo,
          oninput: ((e: Event) => (state.replyTo = (e.target as HTMLInputElement).value)) as EventListener,
        }),
        !server && ways.length ? h('p', { class: 'by' }, L.sendBy) : false,
        h('div', { class: 'actions' }, button(L.cancel, close), ...ways),
      ),
    );
    void count();
    if (message) say(message);
  };

  const showProgress = (): { update(p: PackagerProgress): void } => {
    const text = h('p', {}, fill(L.packaging, { done: 0, total: '…' }));
    const bar = h('progress', { max: 1, value: 0, 'aria-label': L.saving });
    body.replaceChildren(
      ...keep(
        title(),
        h('div', { id: introId }, text, bar),
        h(
          'div',
          { class: 'actions' },
          button(L.cancel, () => job?.abort()),
        ),
      ),
    );
    focusFirst('button');
    let said = '';
    return {
      update(p) {
        const line = p.phase === 'saving' || p.phase === 'done' ? L.saving : fill(L.packaging, { done: p.sessionsDone, total: p.sessionsTotal || '…' });
        if (p.bytesTotal > 0) {
          bar.max = p.bytesTotal;
          bar.value = p.phase === 'packaging' ? p.bytesDone : p.bytesTotal;
        }
        text.textContent = line;
        if (line !== said) say((said = line));
      },
    };
  };

  const showResult = (message: string, link?: string): void => {
    body.replaceChildren(
      ...keep(
        title(),
        h('p', { id: introId }, message),
        link ? h('p', {}, h('a', { href: link, 'data-mailto': true }, L.openMailto)) : false,
        h('div', { class: 'actions' }, button(L.close, close, true)),
      ),
    );
    say(message);
    focusFirst('button');
  };

  const showFailure = (e: unknown, way: Way): void => {
    const why = explain(L, e);
    const details = e instanceof Error ? e.message : String(e);
    body.replaceChildren(
      ...keep(
        title(L.failedTitle),
        h('div', { id: introId }, h('p', { class: 'error' }, why), h('p', {}, L.failedKept)),
        h('details', {}, h('summary', {}, L.technicalDetails), h('code', {}, details)),
        h('p', { class: 'by' }, L.failedFallbacks),
        h(
          'div',
          { class: 'actions start' },
          button(L.retry, () => void run(way), true),
          ...fallbacks(way),
          button(L.close, close),
        ),
      ),
    );
    say(`${L.failedTitle}. ${why}`);
    focusFirst('button.primary');
  };

  const sizeOf = (r: Pick<SendResult, 'sessions' | 'bytes'>) => ({ count: r.sessions.length, size: formatBytes(r.bytes) });

  const mail = (r: Pick<SendResult, 'sessions' | 'bytes' | 'fileName'>): { subject: string; text: string } => {
    const d = state.description.trim();
    const subject = fill(L.mailSubject, {
      product: opts.product,
      application: opts.application,
      version: opts.version,
      about: d ? ` — ${d.replace(/\s+/g, ' ').slice(0, 60)}` : '',
    });
    const lines = [d || '', state.replyTo.trim() ? `Reply to: ${state.replyTo.trim()}` : '', `${fill(L.selection, sizeOf(r))}: ${r.fileName ?? ''}`, ''];
    for (const s of r.sessions.slice(0, 20))
      lines.push(`- ${s.application} ${s.version}, ${s.status}, ${new Date(s.startedAt).toISOString()}, errors ${s.counts.error + s.counts.critical}`);
    if (r.sessions.length > 20) lines.push(`… ${r.sessions.length - 20} more`);
    return { subject, text: lines.filter((l, i) => l !== '' || i === 3).join('\n') };
  };

  const download = (blob: Blob, name: string): void => {
    const url = URL.createObjectURL(blob);
    const a = h('a', { href: url, download: name });
    ui.root.append(a);
    a.click();
    a.remove();
    // Long enough for the browser to have started the download.
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
  };

  /** Web Share where it can share files, else a `mailto:` draft while the package downloads. */
  const emailWithoutRelay = async (send: (d: Destination) => Promise<SendResult>): Promise<ReportDialogResult | SendResult> => {
    const nav = navigator as Navigator & { canShare?: (d: ShareData) => boolean };
    const probe = typeof File === 'function' ? new File([''], 'report.ferry.zip', { type: 'application/zip' }) : undefined;
    let canShare = false;
    try {
      canShare = Boolean(probe && typeof nav.share === 'function' && nav.canShare?.({ files: [probe] }));
    } catch {
      canShare = false;
    }
    let shared = false;
    let href = '';
    // Handed on inside the send, so that the sessions are marked packaged only once the package
    // has gone somewhere, and a share sheet dismissed marks nothing.
    const deliver = async (blob: Blob, name: string, sessions: readonly SessionSummary[]): Promise<void> => {
      const { subject, text } = mail({ sessions: [...sessions], bytes: blob.size, fileName: name });
      if (canShare) {
        try {
          await nav.share({ files: [new File([blob], name, { type: 'application/zip' })], title: subject, text });
          shared = true;
          return;
        } catch (e) {
          if ((e as { name?: unknown }).name === 'AbortError') throw e;
          // Sharing refused (no recent click, say): the draft and the download instead.
        }
      }
      download(blob, name);
      href = `mailto:${encodeURIComponent(o.emailTo ?? '').replace(/%40/g, '@')}?subject=${encodeURIComponent(subject)}&body=${encodeURIComponent(text.slice(0, 1500))}`;
      const a = h('a', { href });
      ui.root.append(a);
      a.click();
      a.remove();
    };
    const r = await send({ type: 'blob', deliver });
    if (r.status !== 'sent') return r;
    if (shared) {
      showResult(fill(L.sentShare, sizeOf(r)));
      return { status: 'sent', destination: 'share', result: r };
    }
    showResult(fill(L.sentMailto, { ...sizeOf(r), name: r.fileName ?? 'report.ferry.zip' }), href);
    return { status: 'sent', destination: 'mailto', result: r };
  };

  const run = async (way: Way, skipRelay = false): Promise<void> => {
    if (job) return;
    const criteria = [...state.criteria];
    const controller = new AbortController();
    job = controller;
    const progress = showProgress();
    const send = (destination: Destination) =>
      host.packager.send({
        criteria,
        application: o.application,
        destination,
        description: state.description.trim() || undefined,
        replyTo: state.replyTo.trim() || undefined,
        signal: controller.signal,
        onProgress: (p) => progress.update(p),
      });
    const email = async (): Promise<SendResult | ReportDialogResult> => {
      if (!skipRelay && opts.server.url && opts.server.ingestKey) {
        try {
          return await send('email');
        } catch (e) {
          if (!isRelayMissing(e)) throw e;
        }
      }
      return emailWithoutRelay(send);
    };
    try {
      const r = way === 'email' ? await email() : await send(way);
      if (!('sessions' in r)) {
        outcome = r;
        return;
      }
      if (r.status === 'cancelled') showForm(L.cancelled);
      else if (r.status === 'empty') showForm(L.empty);
      else {
        outcome = { status: 'sent', destination: r.destination, result: r };
        const size = sizeOf(r);
        showResult(
          r.destination === 'server'
            ? fill(L.sentServer, size)
            : r.destination === 'email'
              ? fill(L.sentEmail, size)
              : fill(L.sentFile, { ...size, name: r.fileName ?? '' }),
        );
      }
    } catch (e) {
      if (controller.signal.aborted) showForm(L.cancelled);
      else showFailure(e, way);
    } finally {
      job = undefined;
    }
  };

  showForm();
  dialog.showModal();
  focusFirst('textarea');
  return dialog;
};
