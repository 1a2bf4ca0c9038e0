/**
 * One sending pass over a product database (DESIGN.md §2 steps 1–5). DOM-free, with every
 * global injected, so the elected tab and the service worker run the same code.
 */
import { LIMITS, PATHS, TUS, type SummariesReply, type SummariesRequest } from '../../shared/protocol.js';
import { uploadLockName } from '../../shared/channel.js';
import { networkError, responseError, SendError } from '../../shared/http-errors.js';
import { tusUpload } from '../../shared/tus-client.js';
import { deleteSessions, type FerryDatabase } from '../db/repository.js';
import type { OutboxRecord, SessionRecord } from '../db/schema.js';
import { toSummary } from '../../agent/session/record.js';
import { isEligible } from './policy.js';

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
  /**
   * Running sessions to send as they stand (an error asked for it). Their owner tab rewrites the
   * whole record with each batch, so marks made here fade and the session is summarised and
   * sent again, complete, once it has ended.
   */
  includeRunning?: ReadonlySet<string>;
  signal?: AbortSignal;
  onProgress?(event: PassProgress): void;
}

export type PassProgress =
  | { type: 'summaries'; count: number }
  | { type: 'compressing'; sessionId: string }
  | { type: 'uploading'; sessionId: string; confirmed: number; total: number };

export interface PassResult {
  /** Sessions whose detail the server confirmed in this pass. */
  sent: string[];
  /** Sessions the server did not want (their summary is recorded). */
  declined: string[];
  /** Sessions refused for good in this pass, with the reason. */
  parked: { id: string; reason: string }[];
  /** Sessions skipped because another context holds their upload lock. */
  busy: string[];
  /** Set when the pass stopped on a retryable failure (network, 408, 429, 5xx). */
  failure?: SendError;
  /** Eligible sessions still waiting after the pass. */
  remaining: number;
}

const authHeader = (t: SendTarget) => ({ Authorization: `Ferry ${t.ingestKey}` });
const endpoint = (t: SendTarget, path: string) => new URL(path, t.url).href;

const update = async (db: FerryDatabase, id: string, change: (r: SessionRecord) => void): Promise<SessionRecord | undefined> => {
  const tx = db.transaction('sessions', 'readwrite');
  const r = await tx.store.get(id);
  if (r) {
    change(r);
    await tx.store.put(r);
  }
  await tx.done;
  return r;
};

/** Step 2: post summaries of sessions not yet summarised; records the server's decisions. */
const postSummaries = async (d: SendDeps, sessions: SessionRecord[]): Promise<{ declined: string[]; wanted: string[]; parked: PassResult['parked'] }> => {
  const out = { declined: [] as string[], wanted: [] as string[], parked: [] as PassResult['parked'] };
  const doFetch = d.fetch ?? globalThis.fetch.bind(globalThis);
  const now = d.now ?? Date.now;
  const url = endpoint(d.target, PATHS.summaries);
  for (let i = 0; i < sessions.length; i += LIMITS.maxSummariesPerRequest) {
    const batch = sessions.slice(i, i + LIMITS.maxSummariesPerRequest);
    const body: SummariesRequest = { product: d.product, sentAt: now(), sessions: batch.map(toSummary) };
    d.onProgress?.({ type: 'summaries', count: batch.length });
    let res: Response;
    try {
      res = await doFetch(url, {
        method: 'POST',
        headers: { ...authHeader(d.target), 'Content-Type': 'application/json' },
        body: JSON.stringify(body),
        signal: d.signal,
        cache: 'no-store',
      });
    } catch (e) {
      throw networkError('posting summaries to', url, e);
    }
    if (!res.ok) {
      const err = await responseError('posting summaries to', url, res, now());
      if (err.retryable) throw err;
      // The request itself is wrong: park its sessions with the server's reason, do not loop.
      for (const s of batch) {
        await update(d.db, s.id, (r) => (r.parked = err.message));
        out.parked.push({ id: s.id, reason: err.message });
      }
      continue;
    }
    const reply = (await res.json()) as SummariesReply;
    const at = now();
    for (const decision of reply.sessions ?? []) {
      const wanted = decision.detail === 'wanted';
      await update(d.db, decision.id, (r) => {
        r.summarySentAt = at;
        if (r.detailState !== 'queued') r.detailState = wanted ? 'wanted' : 'not-wanted';
      });
      if (wanted && decision.upload) {
        const hint = decision.upload;
        const ob = await d.db.get('outbox', decision.id);
        if (ob && !ob.uploadUrl && ob.sha256 === hint.sha256) await d.db.put('outbox', { ...ob, uploadUrl: new URL(hint.url, d.target.url).href, offset: hint.offset });
      }
      if (!wanted) out.declined.push(decision.id);
      else out.wanted.push(decision.id);
    }
  }
  return out;
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

/** Steps 3–5 for one wanted session: compress into the outbox, upload, mark sent. */
const sendDetail = async (d: SendDeps, id: string): Promise<'sent' | 'partial' | 'gone'> => {
  const record = await d.db.get('sessions', id);
  if (!record) return 'gone';
  let ob = await d.db.get('outbox', id);
  // A blob made while the session was running (sent on an error, or left by a tab that closed
  // before its upload was confirmed) is short of what the session holds now: finishing that
  // upload would mark the session sent with part of it.
  if (!ob || isStale(ob, record)) {
    d.onProgress?.({ type: 'compressing', sessionId: id });
    await d.compress(id);
    ob = await d.db.get('outbox', id);
    if (!ob) return 'gone';
    await update(d.db, id, (r) => (r.detailState = 'queued'));
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
    fetch: d.fetch,
    signal: d.signal,
  });
  // Confirmed by the server: only now may anything local change or go.
  const tx = d.db.transaction(['sessions', 'outbox'], 'readwrite');
  const r = await tx.objectStore('sessions').get(id);
  let whole = false;
  if (r) {
    // Sent whole only if the blob covers the session as it is now: one sent while running
    // (or that grew before this confirmation) has more to send once it ends.
    whole = r.status !== 'running' && !isStale(outbox, r);
    if (whole) {
      r.detailState = 'sent';
      r.sentAt = (d.now ?? Date.now)();
    } else {
      r.detailState = 'none';
      delete r.summarySentAt; // summarised again, with what it has by then
    }
    await tx.objectStore('sessions').put(r);
  }
  await tx.objectStore('outbox').delete(id);
  await tx.done;
  return whole ? 'sent' : 'partial';
};

export const sendPass = async (d: SendDeps): Promise<PassResult> => {
  const result: PassResult = { sent: [], declined: [], parked: [], busy: [], remaining: 0 };
  const scope = { product: d.product, application: d.application, parked: new Set<string>() };
  const running = new Set(d.includeRunning ?? []);
  const list = async () => {
    const [ended, crashed, live] = await Promise.all([
      d.db.getAllFromIndex('sessions', 'by-status', 'ended'),
      d.db.getAllFromIndex('sessions', 'by-status', 'crashed'),
      running.size ? d.db.getAllFromIndex('sessions', 'by-status', 'running') : Promise.resolve([]),
    ]);
    const asked = live.filter((s) => running.has(s.id)).map((s) => ({ ...s, status: 'ended' as const, liveStatus: s.status }));
    return [...ended, ...crashed, ...asked]
      .filter((s) => s.parked === undefined && isEligible(s, scope) && (!d.only || d.only.has(s.id)))
      .sort((a, b) => a.startedAt - b.startedAt);
  };
  let wantedNow = new Set<string>();
  try {
    // A running session asked for by an error is summarised as it stands (status running).
    const fresh = (await list())
      .filter((s) => s.summarySentAt === undefined || running.has(s.id))
      .map(({ liveStatus, ...s }: SessionRecord & { liveStatus?: SessionRecord['status'] }) => (liveStatus ? { ...s, status: liveStatus } : s));
    if (fresh.length) {
      const r = await postSummaries(d, fresh);
      result.declined.push(...r.declined);
      result.parked.push(...r.parked);
      wantedNow = new Set(r.wanted);
    }
    for (const s of await list()) {
      // For a running session the reply decides: its owner may have rewritten the record since.
      const wanted = running.has(s.id) ? wantedNow.has(s.id) : s.detailState === 'wanted' || s.detailState === 'queued';
      if (!wanted) continue;
      try {
        const outcome = await withUploadLock(d.locks, s.id, () => sendDetail(d, s.id));
        if (outcome === undefined) result.busy.push(s.id);
        // 'partial' (confirmed as it stood while running) is neither counted nor purged: the
        // session goes again, whole, once it ends.
        else if (outcome === 'sent') result.sent.push(s.id);
      } catch (e) {
        if (!(e instanceof SendError) || e.retryable) throw e;
        // Refused for good (400/413…): park this one with the reason, keep the queue moving.
        await update(d.db, s.id, (r) => (r.parked = e.message));
        await d.db.delete('outbox', s.id);
        result.parked.push({ id: s.id, reason: e.message });
      }
    }
  } catch (e) {
    result.failure = e instanceof SendError ? e : networkError('sending to', d.target.url, e);
  }
  if (d.purge) {
    // Declined sessions count as delivered (the server has their summary), as in Loupe.
    // A running session asked for by an error is not deleted under its writer's feet.
    const done = [...result.sent, ...result.declined.filter((id) => !running.has(id))];
    await deleteSessions(d.db, done);
  }
  running.clear();
  result.remaining = (await list()).length;
  return result;
};
