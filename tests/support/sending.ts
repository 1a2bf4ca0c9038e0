/**
 * Builders for the Node tests of the sending side: sessions seeded into a product database the
 * way the recording tab writes them (records plus NDJSON chunks cut by the writer's encodeBatch),
 * the real compressor, and a `fetch` that records every request it forwards.
 */
import { encodeBatch } from '../../src/agent/storage/writer.js';
import { chunkRange, idbChunkStore } from '../../src/core/db/chunks.js';
import type { FerryDatabase } from '../../src/core/db/open.js';
import type { ChunkRecord, SessionRecord } from '../../src/core/db/schema.js';
import { compressSessionToOutbox } from '../../src/core/package/detailBlob.js';
import { uuidv7 } from '../../src/shared/ids.js';
import type { PendingMessage } from '../../src/shared/message.js';
import { PATHS, TUS } from '../../src/shared/protocol.js';
import { SEVERITIES, type Severity } from '../../src/shared/severity.js';
import { emptyLoss, type SessionStatus } from '../../src/shared/summary.js';

export interface SeedOptions {
  product?: string;
  application?: string;
  status?: SessionStatus;
  messages?: number;
  /** Every tenth message has this severity, the others are `information`. @defaultValue 'error' */
  severity?: Severity;
  startedAt?: number;
  /** Characters of text per message (more makes a detail of several upload chunks). */
  textChars?: number;
  /** Overrides applied to the record last (e.g. an invalid field). */
  record?: Partial<SessionRecord>;
}

/** Deterministic text that gzip cannot shrink much, so details have a size worth uploading in chunks. */
const noise = (seed: number, chars: number): string => {
  let x = (seed * 2_654_435_761) >>> 0 || 1;
  let out = '';
  while (out.length < chars) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out += (x >>> 0).toString(36);
  }
  return out.slice(0, chars);
};

const pending = (from: number, n: number, severity: Severity, textChars: number): PendingMessage[] =>
  Array.from({ length: n }, (_, i) => {
    const seq = from + i;
    return {
      seq,
      time: 1_700_000_000_000 + seq,
      severity: seq % 10 === 0 ? severity : 'information',
      category: 'test',
      text: `message ${seq} ${noise(seq, textChars)}`,
    };
  });

/** Writes a session record and its chunks as the recording tab would; returns the record. */
export const seedSession = async (db: FerryDatabase, o: SeedOptions = {}): Promise<SessionRecord> => {
  const id = uuidv7();
  const n = o.messages ?? 25;
  const status = o.status ?? 'ended';
  const startedAt = o.startedAt ?? Date.now() - 60_000;
  const e = encodeBatch(id, pending(1, n, o.severity ?? 'error', o.textChars ?? 40));
  const record: SessionRecord = {
    id,
    product: o.product ?? 'demo',
    application: o.application ?? 'editor',
    version: '1.2.3',
    status,
    startedAt,
    ...(status === 'running' ? {} : { endedAt: startedAt + 30_000 }),
    counts: e.counts,
    messageCount: e.count,
    lastSeq: e.lastSeq,
    bytes: e.bytes,
    userAgent: 'node-test',
    url: 'https://app.example.com/',
    agentVersion: '0.1.0',
    persistence: 'indexeddb',
    dropped: emptyLoss(),
    heartbeatAt: startedAt + 30_000,
    ...o.record,
  };
  const tx = db.transaction(['sessions', 'chunks'], 'readwrite');
  void tx.objectStore('sessions').put(record);
  for (const c of e.chunks) void tx.objectStore('chunks').put(c);
  await tx.done;
  return record;
};

/** Every stored chunk of a session, in order. */
export const chunksOf = (db: FerryDatabase, sessionId: string): Promise<ChunkRecord[]> => db.getAll('chunks', chunkRange(sessionId));

/** Appends `n` messages to a stored session (and with `end`, ends it), as its tab's next batch would. */
export const growSession = async (db: FerryDatabase, id: string, n: number, o: { end?: boolean; severity?: Severity } = {}): Promise<SessionRecord> => {
  const tx = db.transaction(['sessions', 'chunks'], 'readwrite');
  const r = await tx.objectStore('sessions').get(id);
  if (!r) throw new Error(`no session ${id}`);
  const e = encodeBatch(id, pending(r.lastSeq + 1, n, o.severity ?? 'error', 40));
  for (const c of e.chunks) void tx.objectStore('chunks').put(c);
  for (const s of SEVERITIES) r.counts[s] += e.counts[s];
  r.messageCount += e.count;
  r.bytes += e.bytes;
  r.lastSeq = e.lastSeq;
  r.heartbeatAt += 1000;
  if (o.end) {
    r.status = 'ended';
    r.endedAt = r.heartbeatAt;
  }
  await tx.objectStore('sessions').put(r);
  await tx.done;
  return r;
};

/** The `compress` dependency of sendPass, as the worker runs it: the real packaging core with fflate. */
export const compressor =
  (db: FerryDatabase) =>
  async (sessionId: string): Promise<void> => {
    await compressSessionToOutbox(db, idbChunkStore(db), sessionId, { kind: 'fflate', level: 6 }, Date.now());
  };

export interface RecordedRequest {
  method: string;
  path: string;
  status: number;
  /** The session an upload request belongs to (POST metadata, or the upload URL it created). */
  sessionId?: string;
  /** The session ids a summaries request carried. */
  summaries?: string[];
  /** UTF-8 bytes of a summaries request's body. */
  bytes?: number;
  /** A PATCH's Upload-Offset. */
  offset?: number;
}

const decodeMetadata = (header: string | null): Record<string, string> =>
  Object.fromEntries(
    (header ?? '')
      .split(',')
      .filter(Boolean)
      .map((pair) => {
        const [k, v = ''] = pair.trim().split(' ');
        return [k, Buffer.from(v, 'base64').toString('utf8')];
      }),
  );

export interface RecordingFetch {
  fetch: typeof fetch;
  requests: RecordedRequest[];
  /** Upload-creating POSTs and PATCHes of one session. */
  uploadsOf(sessionId: string): RecordedRequest[];
}

export interface RecordingOptions {
  inner?: typeof fetch;
  /** Before the request goes: may answer instead of the server (a 503), throw (a network error), or wait (to line two contexts up). */
  intercept?: (r: Omit<RecordedRequest, 'status'>, n: number) => Promise<Response | undefined> | Response | undefined;
  /** After the server answered, before the caller sees the answer (a reply that arrives late). */
  settle?: (r: RecordedRequest) => Promise<void> | void;
}

/** Forwards to `inner` (the real fetch by default) and records each request. */
export const recordingFetch = (o: RecordingOptions = {}): RecordingFetch => {
  const inner = o.inner ?? globalThis.fetch.bind(globalThis);
  const requests: RecordedRequest[] = [];
  const uploadUrls = new Map<string, string>();
  const wrapped: typeof fetch = async (input, init) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    const method = (init?.method ?? (input instanceof Request ? input.method : 'GET')).toUpperCase();
    const headers = new Headers(init?.headers);
    const seen: Omit<RecordedRequest, 'status'> = { method, path: url.pathname };
    if (url.pathname === PATHS.summaries && typeof init?.body === 'string') {
      seen.summaries = (JSON.parse(init.body) as { sessions: { id: string }[] }).sessions.map((s) => s.id);
      seen.bytes = Buffer.byteLength(init.body);
    } else if (method === 'POST' && url.pathname === PATHS.uploads) {
      seen.sessionId = decodeMetadata(headers.get('upload-metadata'))[TUS.metadata.sessionId];
    } else if (url.pathname.startsWith(`${PATHS.uploads}/`)) {
      seen.sessionId = uploadUrls.get(url.pathname);
      if (method === 'PATCH') seen.offset = Number(headers.get('upload-offset'));
    }
    const answer = await o.intercept?.(seen, requests.length);
    const res = answer ?? (await inner(input, init));
    requests.push({ ...seen, status: res.status });
    const location = res.headers.get('location');
    if (method === 'POST' && location && seen.sessionId) uploadUrls.set(new URL(location, url).pathname, seen.sessionId);
    await o.settle?.(requests[requests.length - 1]);
    return res;
  };
  return {
    fetch: wrapped,
    requests,
    uploadsOf: (id) => requests.filter((r) => r.sessionId === id && (r.method === 'POST' || r.method === 'PATCH')),
  };
};
