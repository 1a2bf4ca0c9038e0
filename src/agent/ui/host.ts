/** What the dialogs need of the running agent (kept out of types.ts, whose types are public). */
import type { FerryDatabase } from '../../core/db/open.js';
import type { ResolvedOptions } from '../config/options.js';
import type { PackagerApi } from '../packager/types.js';
import type { ReportDialogOptions, ReportDialogResult } from './types.js';

/** The running agent as the UI sees it (boot/startAgent's Agent has all of this). */
export interface UiAgent {
  ready: Promise<void>;
  options(): ResolvedOptions;
  /** The product database, or undefined in memory mode. */
  database(): FerryDatabase | undefined;
  consentAnswered(): boolean;
  consentGranted(): boolean;
  setConsent(granted: boolean): Promise<void>;
  on(event: 'consent', handler: (c: { granted: boolean }) => void): () => void;
  setSendSessionsOnExit(on: boolean): void;
  sendsOnExit(): boolean;
}

export interface UiHost extends UiAgent {
  packager: PackagerApi;
  /** Opens the report dialog (the notice's "Report this problem"). */
  report(options?: ReportDialogOptions): Promise<ReportDialogResult>;
  now(): number;
}

/** What the loader asks the chunk to open. */
export type UiKind = 'report' | 'consent' | 'notice';
