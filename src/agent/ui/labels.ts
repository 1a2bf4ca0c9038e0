/** The dialogs' default (English) strings and the one way they are filled in. */
import type { Labels } from './types.js';

export const DEFAULT_LABELS: Labels = {
  reportTitle: 'Report a problem',
  reportIntro: 'Tell us what went wrong. A record of what the app did is sent with your description, so we can see what happened.',
  description: 'What happened?',
  descriptionHint: 'For example: “I pressed Save and nothing happened.”',
  include: 'Include',
  criterionActive: 'This session (since the page was opened)',
  criterionNew: 'Sessions not sent yet',
  criterionError: 'Sessions with errors',
  criterionCrashed: 'Sessions that crashed',
  criterionCritical: 'Sessions with critical errors',
  criterionWarning: 'Sessions with warnings',
  criterionCompleted: 'All finished sessions',
  selection: '{count} sessions, {size}',
  selectionNone: 'No session matches these choices.',
  selectionCounting: 'Counting sessions…',
  replyTo: 'Your email for a reply (optional)',
  replyToHint: 'Only used to answer this report.',
  send: 'Send report',
  sendBy: 'Send the report by',
  email: 'Email',
  file: 'Save to a file',
  folder: 'Save into a folder',
  cancel: 'Cancel',
  close: 'Close',
  retry: 'Try again',
  packaging: 'Packaging {done} of {total} sessions…',
  saving: 'Sending…',
  cancelled: 'Cancelled. Nothing was sent.',
  empty: 'No session matches these choices; nothing was sent.',
  sentServer: 'Sent {count} sessions, {size}. Thank you!',
  sentEmail: 'Emailed {count} sessions, {size}. Thank you!',
  sentFile: 'Saved {count} sessions, {size}, as {name}.',
  sentShare: 'Shared {count} sessions, {size}.',
  sentMailto: 'Your email app opens with a draft. Attach the downloaded file {name} ({count} sessions, {size}) and send it.',
  openMailto: 'Open the email draft again',
  mailSubject: 'Problem report: {product} {application} {version}{about}',
  failedTitle: 'The report could not be sent',
  failedKept: 'Nothing was lost: the sessions are kept on this device.',
  failedFallbacks: 'You can try again, or send the report another way:',
  technicalDetails: 'Technical details',
  errorNetwork: 'The telemetry server could not be reached. Check your connection.',
  errorKey: 'The telemetry server refused this app’s key (HTTP {status}).',
  errorTooLarge: 'The report is too large for the telemetry server. Choose fewer sessions, or save it to a file.',
  errorBusy: 'The telemetry server is busy. Try again in {seconds} seconds.',
  errorServer: 'The telemetry server had a problem (HTTP {status}). Try again later.',
  errorRefused: 'The telemetry server refused the report (HTTP {status}: {reason}).',
  errorEmailFailed: 'The telemetry server could not pass the email on. Try again later.',
  errorOther: 'Something went wrong while packaging the report.',
  consentTitle: 'Help improve {service}',
  consentText:
    'May {company} collect diagnostic records of how {service} runs on this device — errors, warnings and what the app was doing — and send them to {company}? You can change your mind at any time.',
  consentPrivacy: 'Privacy policy',
  consentAllow: 'Allow',
  consentDeny: 'No, thanks',
  noticeText: 'Something went wrong in this app.',
  noticeReport: 'Report this problem',
  noticeAutomatic: 'Report problems automatically at the end of this session',
  noticeAutomaticOn: 'Problems of this session will be reported when it ends.',
  noticeDismiss: 'Dismiss',
  reportButton: 'Report a problem',
};

/** `'{count} sessions'` with `{ count: 3 }` → `'3 sessions'`; an unknown part stays as written. */
export const fill = (text: string, parts: Record<string, string | number>): string =>
  text.replace(/\{(\w+)\}/g, (m, k: string) => (k in parts ? String(parts[k]) : m));

/** The defaults, then the app's `init({ labels })`, then the dialog's own; only strings count. */
export const mergeLabels = (...layers: (Partial<Labels> | undefined)[]): Labels => {
  const out: Labels = { ...DEFAULT_LABELS };
  for (const layer of layers)
    for (const [k, v] of Object.entries(layer ?? {})) if (k in out && typeof v === 'string') (out as unknown as Record<string, string>)[k] = v;
  return out;
};

/** 1,234,567 → "1.2 MB" (1024-based, as file managers show sizes). */
export const formatBytes = (n: number): string => {
  if (n < 1024) return `${n} B`;
  const units = ['KB', 'MB', 'GB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v < 10 ? v.toFixed(1) : Math.round(v)} ${units[i]}`;
};
