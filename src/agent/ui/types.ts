/** The dialogs' public types, kept apart (no runtime code) so the start-up bundle imports types only. */
import type { DestinationKind, PackageCriterion, SendResult } from '../packager/types.js';

/**
 * Every string the dialogs and the notice show, each overridable (`init({ labels })` for all of
 * them, or a dialog's own `labels`), so an app can translate them. `{name}` parts are filled in.
 */
export interface Labels {
  reportTitle: string;
  reportIntro: string;
  description: string;
  descriptionHint: string;
  include: string;
  criterionActive: string;
  criterionNew: string;
  criterionError: string;
  criterionCrashed: string;
  criterionCritical: string;
  criterionWarning: string;
  criterionCompleted: string;
  /** `{count}` sessions, `{size}` bytes. */
  selection: string;
  selectionNone: string;
  selectionCounting: string;
  replyTo: string;
  replyToHint: string;
  send: string;
  sendBy: string;
  email: string;
  file: string;
  folder: string;
  cancel: string;
  close: string;
  retry: string;
  /** `{done}` of `{total}` sessions. */
  packaging: string;
  saving: string;
  cancelled: string;
  empty: string;
  /** `{count}` sessions, `{size}`. */
  sentServer: string;
  sentEmail: string;
  /** `{name}`: the file name. */
  sentFile: string;
  sentShare: string;
  /** `{name}`: the file downloaded to attach. */
  sentMailto: string;
  openMailto: string;
  /** `{product}`, `{application}`, `{version}`, `{about}`. */
  mailSubject: string;
  failedTitle: string;
  failedKept: string;
  failedFallbacks: string;
  technicalDetails: string;
  errorNetwork: string;
  /** `{status}`. */
  errorKey: string;
  errorTooLarge: string;
  /** `{seconds}`. */
  errorBusy: string;
  errorServer: string;
  /** `{status}`, `{reason}`. */
  errorRefused: string;
  errorEmailFailed: string;
  errorOther: string;
  consentTitle: string;
  /** `{company}`, `{service}`. */
  consentText: string;
  consentPrivacy: string;
  consentAllow: string;
  consentDeny: string;
  noticeText: string;
  noticeReport: string;
  noticeAutomatic: string;
  noticeAutomaticOn: string;
  noticeDismiss: string;
  reportButton: string;
}

export interface ReportDialogOptions {
  /** The criteria preselected. @defaultValue ['new', 'active'] (the seeds' advice while the app runs) */
  criteria?: PackageCriterion[];
  /** Only this application's sessions; by default every application of the product. */
  application?: string;
  /** Text to start the description with. */
  description?: string;
  /** The reply-to address to start with. */
  replyTo?: string;
  /** Where a `mailto:` report goes when the collector relays no email (the user may change it). */
  emailTo?: string;
  labels?: Partial<Labels>;
}

/** How the dialog ended: `sent` when a report went somewhere, else `closed`. */
export interface ReportDialogResult {
  status: 'sent' | 'closed';
  /** Where it went: a packager destination, `share` (Web Share) or `mailto` (an email draft with the file downloaded). */
  destination?: DestinationKind | 'share' | 'mailto';
  /** The packager's result of the report that went. */
  result?: SendResult;
}

export interface ConsentDialogOptions {
  labels?: Partial<Labels>;
}
