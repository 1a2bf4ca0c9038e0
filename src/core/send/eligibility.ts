/**
 * What a session still needs from the sender, from its record (the recording side) and its
 * delivery row (the sending side). Pure, so the tab sender, the service worker and the tests
 * agree on it.
 */
import type { DeliveryRecord, SessionRecord } from '../db/schema.js';

type Session = Pick<SessionRecord, 'id' | 'product' | 'application' | 'status' | 'lastSeq'>;
type Delivery = Pick<DeliveryRecord, 'summarySentAt' | 'summaryStatus' | 'summarySeq' | 'detailState' | 'sentSeq' | 'parked'> | undefined;

export interface EligibilityScope {
  product: string;
  /** Only this application's sessions, unless undefined (sendAllApplications). */
  application?: string;
}

/** The server confirmed the whole session. */
export const isSentWhole = (s: Session, d: Delivery): boolean => d?.detailState === 'sent' && s.status !== 'running' && (d.sentSeq ?? s.lastSeq) >= s.lastSeq;

/**
 * The server has not heard of the session as it stands: never summarised, or summarised while it
 * ran (it has ended or grown since), or confirmed only in part.
 */
export const needsSummary = (s: Session, d: Delivery): boolean => {
  if (isSentWhole(s, d)) return false;
  if (d?.summarySentAt === undefined) return true;
  if (d.summaryStatus !== s.status || d.summarySeq !== s.lastSeq) return true;
  return d.detailState === 'partial' && s.status !== 'running';
};

/** Nothing is left to do: sent whole, or declined as it stands now. */
export const isSettled = (s: Session, d: Delivery): boolean => isSentWhole(s, d) || (d?.detailState === 'not-wanted' && !needsSummary(s, d));

/** A session waits to be sent when it is over (ended or crashed), in scope, not refused for good and not settled. */
export const isEligible = (s: Session, d: Delivery, scope: EligibilityScope): boolean =>
  s.product === scope.product &&
  (scope.application === undefined || s.application === scope.application) &&
  (s.status === 'ended' || s.status === 'crashed') &&
  d?.parked === undefined &&
  !isSettled(s, d);

/**
 * The server asked for the detail and it is not yet confirmed. A running session (sent as it
 * stands after an error) keeps growing, so only the server's answer counts for it; any other must
 * still be the session the summary described.
 */
export const wantsDetail = (s: Session, d: Delivery): boolean =>
  (d?.detailState === 'wanted' || d?.detailState === 'queued') && d.parked === undefined && (s.status === 'running' || !needsSummary(s, d));
