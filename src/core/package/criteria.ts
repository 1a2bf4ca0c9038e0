/**
 * Which sessions a package takes (the Loupe packager's criteria, DESIGN.md §2): a session is in
 * when any chosen criterion matches it (a union). The product always filters; the application
 * only when given, so without it every application of the product is eligible. `active` is the
 * current session only; every other criterion skips running sessions, so another tab's live
 * session is never packaged. Pure, so the page, the worker and the service worker share it.
 */
import { PACKAGE_CRITERIA, type PackageCriterion } from '../../shared/package-format.js';
import type { DeliveryRecord, SessionRecord } from '../db/schema.js';

export type CriteriaSession = Pick<SessionRecord, 'id' | 'product' | 'application' | 'status' | 'counts' | 'lastSeq'> & {
  /** What the sending side knows of it (absent: never summarised, sent nor packaged). */
  delivery?: Pick<DeliveryRecord, 'detailState' | 'sentSeq' | 'packagedAt' | 'packagedSeq'>;
};

export interface CriteriaScope {
  product: string;
  /** Only this application's sessions; absent means every application of the product. */
  application?: string;
  /** The current session (matched by `active`). */
  activeSessionId?: string;
}

/** Never successfully sent to the server nor packaged. */
export const isNew = (s: CriteriaSession): boolean => {
  const d = s.delivery;
  const sent = d?.detailState === 'sent' && (d.sentSeq ?? s.lastSeq) >= s.lastSeq;
  const packaged = d?.packagedAt !== undefined && (d.packagedSeq ?? s.lastSeq) >= s.lastSeq;
  return !sent && !packaged;
};

const TESTS: Record<Exclude<PackageCriterion, 'active'>, (s: CriteriaSession) => boolean> = {
  completed: (s) => s.status === 'ended' || s.status === 'crashed',
  crashed: (s) => s.status === 'crashed',
  new: isNew,
  critical: (s) => (s.counts?.critical ?? 0) > 0,
  error: (s) => (s.counts?.error ?? 0) > 0,
  warning: (s) => (s.counts?.warning ?? 0) > 0,
};

export const matchesCriteria = (s: CriteriaSession, criteria: readonly PackageCriterion[], scope: CriteriaScope): boolean => {
  if (s.product !== scope.product) return false;
  if (scope.application !== undefined && s.application !== scope.application) return false;
  if (s.id === scope.activeSessionId && criteria.includes('active')) return true;
  if (s.status === 'running') return false;
  return criteria.some((c) => c !== 'active' && TESTS[c](s));
};

/** Checks criteria given by app code; throws a TypeError naming the bad value. Duplicates are dropped. */
export const checkCriteria = (value: unknown): PackageCriterion[] => {
  if (!Array.isArray(value) || value.length === 0) throw new TypeError(`criteria: must be a non-empty array of ${PACKAGE_CRITERIA.join(', ')}`);
  for (const c of value)
    if (!(PACKAGE_CRITERIA as readonly unknown[]).includes(c))
      throw new TypeError(`criteria: ${JSON.stringify(c)} is not one of ${PACKAGE_CRITERIA.join(', ')}`);
  return [...new Set(value as PackageCriterion[])];
};
