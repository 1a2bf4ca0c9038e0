/** The dialogs and the notice: one lazily loaded chunk, never part of the start-up bundle. */
import type { PackagerApi } from '../packager/types.js';
import { showConsentDialog } from './consentDialog.js';
import type { UiAgent, UiHost, UiKind } from './host.js';
import { showErrorNotice } from './notice.js';
import { showReportDialog } from './reportDialog.js';
import type { ConsentDialogOptions, ReportDialogOptions } from './types.js';

export { explain } from './reportDialog.js';

const hostOf = (agent: UiAgent, packager: PackagerApi): UiHost => {
  const host: UiHost = { ...agent, packager, report: (o) => showReportDialog(host, o), now: Date.now };
  return host;
};

/** The loader's one entry into the chunk. */
export const open = (kind: UiKind, agent: UiAgent, packager: PackagerApi, options?: object): Promise<unknown> => {
  const host = hostOf(agent, packager);
  if (kind === 'report') return showReportDialog(host, options as ReportDialogOptions);
  if (kind === 'consent') return showConsentDialog(host, options as ConsentDialogOptions);
  return Promise.resolve(showErrorNotice(host));
};
