// The pure rules of what a stored session still needs, over every status × delivery state.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { DeliveryRecord } from '../../../../src/core/db/schema.js';
import { isEligible, isSettled, needsSummary, wantsDetail } from '../../../../src/core/send/eligibility.js';
import type { SessionStatus } from '../../../../src/shared/summary.js';

const LAST = 10;
const session = (status: SessionStatus, over: { product?: string; application?: string } = {}) => ({
  id: 's',
  product: over.product ?? 'demo',
  application: over.application ?? 'editor',
  status,
  lastSeq: LAST,
});
type Row = Partial<DeliveryRecord> | undefined;

/** Delivery rows as the sending side writes them, for a session now at `status` with lastSeq 10. */
const ROWS: Record<string, (status: SessionStatus) => Row> = {
  // Never summarised, sent nor packaged.
  none: () => undefined,
  // The summary described the session as it stands; the server asked for the detail.
  wanted: (status) => ({ summarySentAt: 1, summaryStatus: status, summarySeq: LAST, detailState: 'wanted' }),
  // Asked for while it was running at seq 6 (an error), and it has grown (and maybe ended) since.
  'wanted, summarised running at 6': () => ({ summarySentAt: 1, summaryStatus: 'running', summarySeq: 6, detailState: 'wanted' }),
  queued: (status) => ({ summarySentAt: 1, summaryStatus: status, summarySeq: LAST, detailState: 'queued' }),
  // Confirmed as it stood while running at seq 6.
  partial: () => ({ summarySentAt: 1, summaryStatus: 'running', summarySeq: 6, detailState: 'partial', sentSeq: 6 }),
  // Sent while running at seq 6 (as version 1 recorded such a send), grown since.
  'sent, sentSeq < lastSeq': () => ({ summarySentAt: 1, summaryStatus: 'running', summarySeq: 6, detailState: 'sent', sentSeq: 6 }),
  'sent, sentSeq = lastSeq': (status) => ({ summarySentAt: 1, summaryStatus: status, summarySeq: LAST, detailState: 'sent', sentSeq: LAST }),
  'not-wanted': (status) => ({ summarySentAt: 1, summaryStatus: status, summarySeq: LAST, detailState: 'not-wanted' }),
  // Declined while running at seq 6: what it logged since is news to the server.
  'not-wanted, summarised running at 6': () => ({ summarySentAt: 1, summaryStatus: 'running', summarySeq: 6, detailState: 'not-wanted' }),
  // Refused for good by the server before any reply.
  parked: () => ({ parked: 'answered 400: invalid-field' }),
  // Refused for good while an upload was wanted.
  'wanted, then parked': (status) => ({ summarySentAt: 1, summaryStatus: status, summarySeq: LAST, detailState: 'wanted', parked: 'answered 413: too-large' }),
};

type Flags = [needsSummary: boolean, isSettled: boolean, isEligible: boolean, wantsDetail: boolean];
const T = true;
const F = false;
/** Expected [needsSummary, isSettled, isEligible, wantsDetail] for running, ended, crashed. */
const EXPECTED: Record<string, Record<SessionStatus, Flags>> = {
  none: { running: [T, F, F, F], ended: [T, F, T, F], crashed: [T, F, T, F] },
  wanted: { running: [F, F, F, T], ended: [F, F, T, T], crashed: [F, F, T, T] },
  // A running session keeps growing: only the server's answer counts. An ended one must be summarised again first.
  'wanted, summarised running at 6': { running: [T, F, F, T], ended: [T, F, T, F], crashed: [T, F, T, F] },
  queued: { running: [F, F, F, T], ended: [F, F, T, T], crashed: [F, F, T, T] },
  partial: { running: [T, F, F, F], ended: [T, F, T, F], crashed: [T, F, T, F] },
  'sent, sentSeq < lastSeq': { running: [T, F, F, F], ended: [T, F, T, F], crashed: [T, F, T, F] },
  // Sent whole only once it is over: a running session's copy is never the whole.
  'sent, sentSeq = lastSeq': { running: [F, F, F, F], ended: [F, T, F, F], crashed: [F, T, F, F] },
  'not-wanted': { running: [F, T, F, F], ended: [F, T, F, F], crashed: [F, T, F, F] },
  'not-wanted, summarised running at 6': { running: [T, F, F, F], ended: [T, F, T, F], crashed: [T, F, T, F] },
  parked: { running: [T, F, F, F], ended: [T, F, F, F], crashed: [T, F, F, F] },
  'wanted, then parked': { running: [F, F, F, F], ended: [F, F, F, F], crashed: [F, F, F, F] },
};

const STATUSES: SessionStatus[] = ['running', 'ended', 'crashed'];
const scope = { product: 'demo', application: 'editor' };

test('the table covers every delivery state', () => {
  assert.deepEqual(Object.keys(EXPECTED).sort(), Object.keys(ROWS).sort());
});

for (const [name, row] of Object.entries(ROWS)) {
  test(`delivery "${name}": needsSummary, isSettled, isEligible, wantsDetail for running, ended and crashed`, () => {
    for (const status of STATUSES) {
      const s = session(status);
      const d = row(status) as DeliveryRecord | undefined;
      const got: Flags = [needsSummary(s, d), isSettled(s, d), isEligible(s, d, scope), wantsDetail(s, d)];
      assert.deepEqual(got, EXPECTED[name][status], `${status} session, delivery "${name}" → [needsSummary, isSettled, isEligible, wantsDetail]`);
    }
  });
}

test('isEligible keeps to the product, and to the application unless every application is sent', () => {
  const ended = (o: { product?: string; application?: string }) => session('ended', o);
  assert.equal(isEligible(ended({}), undefined, scope), true);
  assert.equal(isEligible(ended({ product: 'other' }), undefined, scope), false);
  assert.equal(isEligible(ended({ application: 'viewer' }), undefined, scope), false);
  assert.equal(isEligible(ended({ application: 'viewer' }), undefined, { product: 'demo' }), true, 'sendAllApplications');
  assert.equal(isEligible(ended({ product: 'other' }), undefined, { product: 'demo' }), false);
});

test('a session ended or grown since its summary needs a new one; a confirmed partial copy of an ended session too', () => {
  const summarised = { summarySentAt: 1, summaryStatus: 'ended' as const, summarySeq: LAST, detailState: 'wanted' as const };
  assert.equal(needsSummary(session('ended'), summarised), false);
  assert.equal(needsSummary({ ...session('ended'), lastSeq: LAST + 1 }, summarised), true, 'grown');
  assert.equal(needsSummary(session('crashed'), summarised), true, 'status changed');
  assert.equal(needsSummary(session('ended'), { ...summarised, detailState: 'partial', sentSeq: LAST }), true, 'partial, though the summary matches');
  assert.equal(needsSummary(session('running'), { ...summarised, summaryStatus: 'running', detailState: 'partial', sentSeq: LAST }), false);
});
