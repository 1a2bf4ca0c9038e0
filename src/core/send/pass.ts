/**
 * One sending pass over a product database (docs/architecture.md, steps 1–5). DOM-free, with
 * every global injected, so the elected tab and the service worker run the same code.
 */
import { networkError, type PauseReason, pauseReason, responseError, SendError } from '../../shared/http-errors.js';
import { uploadLockName } from '../../shared/names.js';
import { COLLECTOR_VERSION_HEADER, ingestAuthorization, LIMITS, PATHS, type SummariesReply, TUS } from '../../shared/protocol.js';
import { tusUpload } from '../../shared/tus-client.js';
import { AGENT_VERSION } from '../../shared/version.js';
import { deliveryMap, getDelivery, updateDelivery, updateDeliveryIn } from '../db/delivery.js';
import type { FerryDatabase } from '../db/open.js';
import type { DeliveryRecord, OutboxRecord, SessionRecord } from '../db/schema.js';
import { deleteSessions, sessionsByStatus, toSummary } from '../db/sessions.js';
import { markCrashedSessions } from '../session/crashed.js';
import { type BatchLimits, planBatches, serializeSummary, summariesBody } from './batches.js';
import { isEligible, needsSummary, wantsDetail } from './eligibility.js';
import { type ParkContext, park, refusedByOlderCollector, unparkSessions } from './parked.js';

export interface SendTarget {
  url: string;
  ingestKey: string;
}

export interface SendDeps {
  db: FerryDatabase;
  target: SendTarget;
  product: string;
  /** Only this application's sessions; undefined for every application (sendAllApplications). */
  application?: string;
  purge: boolean;
  /** Writes the session's gzip detail and its SHA-256 into the outbox (worker or service worker). */
  compress(sessionId: string): Promise<void>;
  fetch?: typeof fetch;
  locks?: LockManager;
  now?: () => number;
  chunkSize?: number;
  /** Restrict the pass to these sessions (explicit sends, send on exit). */
  only?: ReadonlySet<string>;
  /** Running sessions to send as they stand (an error asked for it); the complete session follows once it has ended. */
  includeRunning?: ReadonlySet<string>;
  /** Step 1, marking sessions whose tab is gone as crashed. @defaultValue markCrashedSessions with `locks` */
  markCrashed?(): Promise<unknown>;
  /** Asked before every request: consent withdrawn in another tab stops the pass at once. */
  allowed?(): boolean | Promise<boolean>;
  signal?: AbortSignal;
  onProgress?(event: PassProgress): void;
  /** Recorded with each park, so another agent version tries the session again. @defaultValue AGENT_VERSION */
  agentVersion?: string;
  /** Summary batch limits. @defaultValue the protocol's (LIMITS) */
  batchLimits?: BatchLimits;
  /**
   * A request without an answer in this time is abandoned as a network error. Browsers never
   * time out a request whose connection stays open, so a collector (or middlebox) that accepts and
   * never answers would otherwise hold the pass, and every later one, for ever.
   * @defaultValue REQUEST_TIMEOUT_MS (60 s)
   */
  requestTimeoutMs?: number;
}

export const REQUEST_TIMEOUT_MS = 60_000;

export type PassProgress =
  | { type: 'summaries'; count: number }
  | { type: 'compressing'; sessionId: string }
  | { type: 'uploading'; sessionId: string; confirmed: number; total: number };

export interface PassResult {
  /** Sessions whose whole detail the server confirmed in this pass. */
  sent: string[];
  /** Sessions the server did not want (their summary is recorded). */
  declined: string[];
  /** Sessions refused for good in this pass, with the reason. */
  parked: { id: string; reason: string }[];
  /** Sessions skipped because another context holds their upload lock. */
  busy: string[];
  /** Set when the pass stopped on a retryable failure (network, 408, 429, 5xx), or on one that pauses sending. */
  failure?: SendError;
  /** The collector refused the key (401), the origin (403) or the product: sending pauses, nothing is parked. */
  paused?: PauseReason;
  /** Sessions refused by an older collector and tried again in this pass, now that a newer one answers. */
  unparked?: string[];
  /** The pass stopped because sending is no longer allowed (consent withdrawn). */
  stopped?: boolean;
  /** Eligible sessions still waiting after the pass. */
  remaining: number;
}

interface Item {
  s: SessionRecord;
  d: DeliveryRecord | undefined;
}

const authHeader = (t: SendTarget) => ({ Authorization: ingestAuthorization(t.ingestKey) });
const endpoint = (t: SendTarget, path: string) => new URL(path, t.url).href;

class NotAllowed extends Error {}

/** Single summaries refused in one pass before it stops posting summaries (the rest wait for the next pass). */
const MAX_REFUSED_PER_PASS = 10;

/** The summary a refusal names (`sessions[3].version` → 3), by the reply's `field` or, from older collectors, its detail. */
const refusedIndex = (e: SendError, size: number): number | undefined => {
  const path = e.body?.field ?? e.body?.detail ?? '';
  const m = /^sessions\[(\d+)\]/.exec(path);
  const i = m ? Number(m[1]) : -1;
  return i >= 0 && i < size ? i : undefined;
};

/** What a pass learns on the way: the collector's version, from any reply that carried it. */
interface Seen {
  collectorVersion?: string;
}

/**
 * Step 2: posts summaries of sessions the server has not heard of as they stand, in batches
 * under the collector's count and byte limits, and records its decisions. A refusal that names
 * one summary parks only that one and sends the others again; a batch too large for this
 * collector's own limits is halved; a refusal of the request as a whole parks the batch.
 */
const postSummaries = async (d: SendDeps, items: Item[], check: () => Promise<void>, net: Net): Promise<Pick<PassResult, 'declined' | 'parked'>> => {
  const out: Pick<PassResult, 'declined' | 'parked'> = { declined: [], parked: [] };
  const now = d.now ?? Date.now;
  const url = endpoint(d.target, PATHS.summaries);
  const byId = new Map(items.map((i) => [i.s.id, i.s]));
  const parkOne = async (id: string, reason: string, status: number | undefined): Promise<void> => {
    await updateDelivery(d.db, id, 'summary-refused', (row) => park(row, reason, status, net.parkContext()), now());
    out.parked.push({ id, reason });
  };
  const serialized = items.map(({ s, d: row }) => serializeSummary(s.id, toSummary(s, row)));
  const { batches, tooLarge } = planBatches(serialized, d.product, d.batchLimits);
  for (const big of tooLarge) await parkOne(big.id, `the summary of ${big.id} is ${big.bytes} bytes, more than a request to the collector may hold`, undefined);
  while (batches.length > 0 && net.refused < MAX_REFUSED_PER_PASS) {
    const batch = batches.shift()!;
    await check();
    d.onProgress?.({ type: 'summaries', count: batch.length });
    let res: Response;
    try {
      res = await net.fetch(url, {
        method: 'POST',
        headers: { ...authHeader(d.target), 'Content-Type': 'application/json' },
        body: summariesBody(d.product, now(), batch),
        signal: d.signal,
        cache: 'no-store',
      });
    } catch (e) {
      throw networkError('posting summaries to', url, e);
    }
    if (!res.ok) {
      const err = await responseError('posting summaries to', url, res, now());
      // Retryable, or a refusal of the key, origin or product that every request would get: the pass stops.
      if (err.retryable || pauseReason(err)) throw err;
      // More than this collector takes in one request (its limits may be lower than the protocol's).
      if ((err.status === 413 || err.body?.field === 'sessions') && batch.length > 1) {
        const half = Math.ceil(batch.length / 2);
        batches.unshift(batch.slice(0, half), batch.slice(half));
        continue;
      }
      const at = refusedIndex(err, batch.length);
      if (at !== undefined) {
        await parkOne(batch[at].id, err.message, err.status);
        const rest = batch.filter((_, i) => i !== at);
        // Many single refusals in a row are one cause met again and again: stop for this pass
        // rather than spend a request on each; the rest stay queued, not parked.
        net.refused++;
        if (rest.length > 0) batches.unshift(rest);
        continue;
      }
      // The request itself is wrong (its product, say): park its sessions with the server's reason, do not loop.
      for (const { id } of batch) await parkOne(id, err.message, err.status);
      continue;
    }
    const reply = (await res.json()) as SummariesReply;
    const at = now();
    const inBatch = new Set(batch.map((b) => b.id));
    for (const decision of reply.sessions ?? []) {
      const told = byId.get(decision.id);
      if (!told || !inBatch.has(decision.id)) continue;
      const wanted = decision.detail === 'wanted';
      const tx = d.db.transaction(['delivery', 'outbox'], 'readwrite');
      await updateDeliveryIn(
        tx,
        decision.id,
        'summary-reply',
        (row) => {
          row.summarySentAt = at;
          row.summaryStatus = told.status;
          row.summarySeq = told.lastSeq;
          // Another context confirmed it meanwhile: the answer to a summary changes nothing sent.
          if (row.detailState === 'sent' && (row.sentSeq ?? 0) >= told.lastSeq) return;
          if (!wanted) {
            row.detailState = 'not-wanted';
            void tx.objectStore('outbox').delete(decision.id);
          } else if (row.detailState !== 'queued') row.detailState = 'wanted';
        },
        at,
      );
      if (wanted && decision.upload) {
        const hint = decision.upload;
        const ob = await tx.objectStore('outbox').get(decision.id);
        if (ob && !ob.uploadUrl && ob.sha256 === hint.sha256)
          await tx.objectStore('outbox').put({ ...ob, uploadUrl: new URL(hint.url, d.target.url).href, offset: hint.offset });
      }
      await tx.done;
      if (!wanted) out.declined.push(decision.id);
    }
  }
  return out;
};

const timeoutSignal = (ms: number): AbortSignal => {
  const c = new AbortController();
  setTimeout(() => c.abort(new DOMException('the request timed out', 'TimeoutError')), ms);
  return c.signal;
};

/** `signal` (the pass's own, when given) aborted also once `ms` have passed. */
const withTimeout = (signal: AbortSignal | undefined, ms: number): AbortSignal => {
  // AbortSignal.timeout where it exists (its timer never keeps a worker or Node alive).
  const timeout = typeof AbortSignal.timeout === 'function' ? AbortSignal.timeout(ms) : timeoutSignal(ms);
  if (!signal) return timeout;
  if (typeof AbortSignal.any === 'function') return AbortSignal.any([signal, timeout]);
  const both = new AbortController();
  const abort = (s: AbortSignal) => () => both.abort(s.reason);
  signal.addEventListener('abort', abort(signal), { once: true });
  timeout.addEventListener('abort', abort(timeout), { once: true });
  return both.signal;
};

/** The pass's fetch, noting the collector's version from every reply, and what parking records. */
interface Net {
  fetch: typeof fetch;
  seen: Seen;
  /** Single summaries refused so far in this pass. */
  refused: number;
  parkContext(): ParkContext;
}

const createNet = (d: SendDeps): Net => {
  const doFetch = d.fetch ?? globalThis.fetch.bind(globalThis);
  const seen: Seen = {};
  return {
    seen,
    refused: 0,
    fetch: async (input, init) => {
      const res = await doFetch(input, { ...init, signal: withTimeout(init?.signal ?? undefined, d.requestTimeoutMs ?? REQUEST_TIMEOUT_MS) });
      const v = res.headers.get(COLLECTOR_VERSION_HEADER);
      if (v) seen.collectorVersion = v.slice(0, 64);
      return res;
    },
    parkContext: () => ({ agentVersion: d.agentVersion ?? AGENT_VERSION, ...(seen.collectorVersion ? { collectorVersion: seen.collectorVersion } : {}) }),
  };
};

/** Runs `fn` holding the session's upload lock; undefined when another context holds it. */
const withUploadLock = async <T>(locks: LockManager | undefined, id: string, fn: () => Promise<T>): Promise<T | undefined> => {
  if (!locks) return fn();
  let ran = false;
  const result = await locks.request(uploadLockName(id), { ifAvailable: true }, async (lock) => {
    if (!lock) return undefined;
    ran = true;
    return fn();
  });
  return ran ? (result as T) : undefined;
};

const isStale = (ob: OutboxRecord, session: SessionRecord): boolean => ob.lastSeq === undefined || ob.lastSeq < session.lastSeq;

/**
 * Steps 3–5 for one session, under its upload lock: re-read what the sending side knows (another
 * context may have sent it since the list was made), compress into the outbox, upload, record.
 */
const sendDetail = async (d: SendDeps, id: string, net: Net): Promise<'sent' | 'partial' | 'skipped'> => {
  const now = d.now ?? Date.now;
  const [record, delivery] = await Promise.all([d.db.get('sessions', id), getDelivery(d.db, id)]);
  if (!record || !wantsDetail(record, delivery)) return 'skipped';
  let ob = await d.db.get('outbox', id);
  // A blob made while the session was running (sent on an error, or left by a tab that closed
  // before its upload was confirmed) is short of what the session holds now: finishing that
  // upload would record the session as sent with part of it.
  if (!ob || isStale(ob, record)) {
    d.onProgress?.({ type: 'compressing', sessionId: id });
    await d.compress(id);
    ob = await d.db.get('outbox', id);
    if (!ob) return 'skipped';
    await updateDelivery(d.db, id, 'compressed', (row) => void (row.detailState = 'queued'), now());
  }
  const outbox = ob;
  await tusUpload({
    endpoint: endpoint(d.target, PATHS.uploads),
    blob: outbox.blob,
    metadata: { [TUS.metadata.sessionId]: id, [TUS.metadata.product]: d.product, [TUS.metadata.sha256]: outbox.sha256 },
    headers: authHeader(d.target),
    chunkSize: d.chunkSize ?? LIMITS.uploadChunkBytes,
    state: { url: outbox.uploadUrl, offset: outbox.offset },
    saveState: async (s) => {
      const current = await d.db.get('outbox', id);
      if (current) await d.db.put('outbox', { ...current, uploadUrl: s.url, offset: s.offset });
    },
    onProgress: (confirmed, total) => d.onProgress?.({ type: 'uploading', sessionId: id, confirmed, total }),
    fetch: net.fetch,
    signal: d.signal,
  });
  // Confirmed by the server: only now may anything local change or go.
  const tx = d.db.transaction(['sessions', 'delivery', 'outbox'], 'readwrite');
  const r = await tx.objectStore('sessions').get(id);
  // Sent whole only if the blob covers the session as it is now: one sent while running (or that
  // grew before this confirmation) is summarised and sent again once it has ended.
  const whole = r !== undefined && r.status !== 'running' && !isStale(outbox, r);
  const at = now();
  await updateDeliveryIn(
    tx,
    id,
    'upload-confirmed',
    (row) => {
      row.detailState = whole ? 'sent' : 'partial';
      row.sentAt = at;
      row.sentSeq = outbox.lastSeq;
    },
    at,
  );
  await tx.objectStore('outbox').delete(id);
  await tx.done;
  return whole ? 'sent' : 'partial';
};

export const sendPass = async (d: SendDeps): Promise<PassResult> => {
  const result: PassResult = { sent: [], declined: [], parked: [], busy: [], remaining: 0 };
  const now = d.now ?? Date.now;
  const net = createNet(d);
  const scope = { product: d.product, application: d.application };
  const running = new Set(d.includeRunning ?? []);
  const check = async (): Promise<void> => {
    if (d.allowed && !(await d.allowed())) throw new NotAllowed();
  };
  const list = async (): Promise<Item[]> => {
    const [ended, crashed, live, delivery] = await Promise.all([
      sessionsByStatus(d.db, 'ended'),
      sessionsByStatus(d.db, 'crashed'),
      running.size ? sessionsByStatus(d.db, 'running') : Promise.resolve([]),
      deliveryMap(d.db),
    ]);
    const asked = live.filter((s) => running.has(s.id) && s.product === d.product && (d.application === undefined || s.application === d.application));
    return [...ended, ...crashed, ...asked]
      .map((s) => ({ s, d: delivery.get(s.id) }))
      .filter(({ s, d: row }) => (s.status === 'running' ? row?.parked === undefined : isEligible(s, row, scope)) && (!d.only || d.only.has(s.id)))
      .sort((a, b) => a.s.startedAt - b.s.startedAt);
  };
  try {
    // Step 1: a tab that died leaves a running session behind; it is sent as crashed.
    await (d.markCrashed ?? (() => markCrashedSessions(d.db, { locks: d.locks, now })))();
  } catch {
    // Crash marking failing (a closing database) must not keep the rest from going.
  }
  try {
    // A second round takes sessions that ended (or were found crashed) while the first ran.
    for (let round = 0; round < 2; round++) {
      const fresh = (await list()).filter(({ s, d: row }) => needsSummary(s, row));
      if (round > 0 && fresh.length === 0) break;
      if (fresh.length) {
        const r = await postSummaries(d, fresh, check, net);
        result.declined.push(...r.declined);
        result.parked.push(...r.parked);
      }
      const collector = net.seen.collectorVersion;
      if (round === 0 && collector !== undefined) {
        // A newer collector may take what an older one refused: the next round sends it again.
        const unparked = await unparkSessions(d.db, refusedByOlderCollector(collector), 'unpark-new-collector', now());
        if (unparked.length) result.unparked = unparked;
      }
      for (const { s, d: row } of await list()) {
        if (!wantsDetail(s, row)) continue;
        await check();
        try {
          const outcome = await withUploadLock(d.locks, s.id, () => sendDetail(d, s.id, net));
          if (outcome === undefined) result.busy.push(s.id);
          // 'partial' (confirmed as it stood while running) is neither counted nor purged.
          else if (outcome === 'sent') result.sent.push(s.id);
        } catch (e) {
          if (!(e instanceof SendError) || e.retryable || pauseReason(e)) throw e;
          // Refused as it is (400/413…): park this one with the reason, keep the queue moving.
          const tx = d.db.transaction(['delivery', 'outbox'], 'readwrite');
          await updateDeliveryIn(tx, s.id, 'upload-refused', (row) => park(row, e.message, e.status, net.parkContext()), now());
          await tx.objectStore('outbox').delete(s.id);
          await tx.done;
          result.parked.push({ id: s.id, reason: e.message });
        }
      }
      running.clear();
    }
  } catch (e) {
    if (e instanceof NotAllowed) result.stopped = true;
    else result.failure = e instanceof SendError ? e : networkError('sending to', d.target.url, e);
    const paused = result.failure && pauseReason(result.failure);
    if (paused) result.paused = paused;
  }
  running.clear();
  if (d.purge) {
    // Declined sessions count as delivered (the server has their summary), as in Loupe. A running
    // session is never deleted under its writer's feet.
    const live = new Set((await sessionsByStatus(d.db, 'running')).map((s) => s.id));
    await deleteSessions(
      d.db,
      [...result.sent, ...result.declined].filter((id) => !live.has(id)),
    );
  }
  result.remaining = (await list()).length;
  return result;
};
