import type { DetailDecision, DetailPolicy } from '../shared/protocol.js';
import type { SessionSummary } from '../shared/summary.js';

/** The per-product policy: does the collector want this session's messages? `force` always wins. */
export const decideDetail = (policy: DetailPolicy, s: SessionSummary): DetailDecision => {
  if (s.force) return 'wanted';
  const c = s.counts;
  switch (policy) {
    case 'all':
      return 'wanted';
    case 'error-or-worse':
      return c.critical + c.error > 0 ? 'wanted' : 'not-wanted';
    case 'warning-or-worse':
      return c.critical + c.error + c.warning > 0 ? 'wanted' : 'not-wanted';
    case 'none':
      return 'not-wanted';
  }
};
