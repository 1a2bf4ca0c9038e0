import type { SessionRecord } from '../db/schema.js';

/** The sender's rhythm (DESIGN.md §2, as the Loupe agent's publish loop). */
export const CADENCE = {
  firstCheckMs: 5_000,
  everyMs: 60_000,
  retryBaseMs: 5_000,
  maxBackoffMs: 30 * 60_000,
  maxConcurrentUploads: 2,
} as const;

/**
 * Delay before the next check: the normal period when all went well; after failures an
 * exponential backoff with jitter (50–100 % of the step, so tabs of many users do not retry in
 * step), never sooner than the server's Retry-After, never past maxBackoffMs.
 */
export const nextCheckDelay = (failures: number, retryAfterMs: number | undefined, random: () => number = Math.random): number => {
  if (failures <= 0 && retryAfterMs === undefined) return CADENCE.everyMs;
  const step = Math.min(CADENCE.maxBackoffMs, CADENCE.retryBaseMs * 2 ** Math.max(0, failures - 1));
  const jittered = step * (0.5 + random() / 2);
  return Math.min(CADENCE.maxBackoffMs, Math.max(jittered, retryAfterMs ?? 0));
};

export interface EligibilityScope {
  product: string;
  /** Only this application's sessions, unless undefined (sendAllApplications). */
  application?: string;
  /** Sessions parked after a refusal; not retried. */
  parked: ReadonlySet<string>;
}

/**
 * A session waits to be sent when it is over (ended or crashed) and the server has not yet
 * either confirmed its detail or declined it.
 */
export const isEligible = (s: SessionRecord, scope: EligibilityScope): boolean =>
  s.product === scope.product &&
  (scope.application === undefined || s.application === scope.application) &&
  (s.status === 'ended' || s.status === 'crashed') &&
  !scope.parked.has(s.id) &&
  s.detailState !== 'sent' &&
  s.detailState !== 'not-wanted';
