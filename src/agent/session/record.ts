import type { SessionRecord } from '../../core/db/schema.js';
import { uuidv7 } from '../../shared/ids.js';
import { cutToLength, SUMMARY_LIMITS } from '../../shared/limits.js';
import { emptyCounts } from '../../shared/severity.js';
import { emptyLoss } from '../../shared/summary.js';
import { AGENT_VERSION } from '../../shared/version.js';
import type { PrivacyOptions, ResolvedOptions } from '../config/options.js';

/** The page URL as the summary carries it: without its query and fragment unless `privacy` keeps them. */
export const pageUrl = (href: string, privacy: PrivacyOptions): string => {
  const u = new URL(href);
  if (!privacy.keepUrlQuery) u.search = '';
  if (!privacy.keepUrlFragment) u.hash = '';
  return u.href;
};

export const newSessionRecord = (o: ResolvedOptions, now: number): SessionRecord => ({
  id: uuidv7(now),
  product: o.product,
  application: o.application,
  version: o.version,
  status: 'running',
  startedAt: now,
  counts: emptyCounts(),
  messageCount: 0,
  lastSeq: 0,
  bytes: 0,
  // Cut to what the collector accepts, so a long user agent or URL never gets the session refused.
  userAgent: cutToLength(typeof navigator !== 'undefined' ? navigator.userAgent : '', SUMMARY_LIMITS.userAgent),
  url: cutToLength(typeof location !== 'undefined' ? pageUrl(location.href, o.privacy) : '', SUMMARY_LIMITS.url),
  agentVersion: AGENT_VERSION,
  persistence: 'indexeddb',
  dropped: emptyLoss(),
  heartbeatAt: now,
});
