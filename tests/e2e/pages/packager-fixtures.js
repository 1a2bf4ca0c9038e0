// Fixtures for the packager tests, run in the page: sessions and chunks written with the raw
// IndexedDB API (as another tab or an older page load would have left them), large sessions
// generated here rather than sent over CDP, and a comlink handle on the built worker.
import * as Comlink from '/node_modules/comlink/dist/esm/comlink.mjs';
import { done, idAt, open, req, sessionRecord, sessionsWithDelivery, splitDelivery } from './inspect.js';

const SEVERITIES = ['critical', 'error', 'warning', 'information', 'verbose'];

export { idAt, open };

let clock = Date.now() - 3_600_000;
/** A time-ordered id like the agent's (UUIDv7), distinct per call. */
export const newId = () => idAt((clock += 1000));

/** `severities`: one entry per message. Returns NDJSON lines of messages seq from..from+n-1. */
export const lines = (sessionId, from, severities) =>
  severities
    .map(
      (severity, i) =>
        JSON.stringify({
          sessionId,
          seq: from + i,
          time: 1_700_000_000_000 + from + i,
          severity,
          category: 'Test',
          text: `message ${from + i} of ${sessionId.slice(-4)}`,
        }) + '\n',
    )
    .join('');

const countsOf = (severities) => Object.fromEntries(SEVERITIES.map((s) => [s, severities.filter((x) => x === s).length]));

/**
 * Stores sessions: each `{ id?, startedAt?, application, status, severities[], sentAt?, packagedAt?,
 * product?, chunkSize? }` gets a full record and its messages in chunks of `chunkSize` (default 3).
 * Returns the records.
 */
export async function seed(product, specs) {
  const db = await open(product);
  const tx = db.transaction(['sessions', 'delivery', 'chunks'], 'readwrite');
  const out = [];
  for (const spec of specs) {
    const id = spec.id ?? (spec.startedAt !== undefined ? idAt(spec.startedAt) : newId());
    const sev = spec.severities ?? ['information'];
    const size = spec.chunkSize ?? 3;
    let bytes = 0;
    for (let i = 0; i < sev.length; i += size) {
      const part = sev.slice(i, i + size);
      const text = lines(id, i + 1, part);
      bytes += text.length;
      tx.objectStore('chunks').put({
        sessionId: id,
        seq: i + 1,
        lastSeq: i + part.length,
        count: part.length,
        counts: countsOf(part),
        bytes: text.length,
        text,
      });
    }
    const startedAt = Number(BigInt('0x' + id.replace(/-/g, '').slice(0, 12)));
    const record = sessionRecord({
      id,
      product: spec.product ?? product,
      application: spec.application ?? 'editor',
      status: spec.status ?? 'ended',
      startedAt,
      counts: countsOf(sev),
      messageCount: sev.length,
      lastSeq: sev.length,
      bytes,
      ...(spec.sentAt ? { sentAt: spec.sentAt, summarySentAt: spec.sentAt } : {}),
      ...(spec.packagedAt ? { packagedAt: spec.packagedAt } : {}),
    });
    const [session, row] = splitDelivery(record);
    tx.objectStore('sessions').put(session);
    if (row) tx.objectStore('delivery').put(row);
    out.push(record);
  }
  await done(tx);
  db.close();
  return out;
}

/** Stores raw chunk records as given (for corrupt-record tests). */
export async function putChunks(product, records) {
  const db = await open(product);
  const tx = db.transaction('chunks', 'readwrite');
  for (const r of records) tx.objectStore('chunks').put(r);
  await done(tx);
  db.close();
}

export async function sessions(product) {
  const db = await open(product);
  const all = await sessionsWithDelivery(db);
  db.close();
  return all;
}

export async function outbox(product, id) {
  const db = await open(product);
  const r = await req(db.transaction('outbox').objectStore('outbox').get(id));
  db.close();
  return r;
}

/** Holds a session's live lock, as the tab running it would. */
export const holdLiveLock = (id) =>
  new Promise((resolve) =>
    navigator.locks.request(`ferry:live:${id}`, () => {
      resolve();
      return new Promise(() => {});
    }),
  );

/**
 * Generates an ended session of about `megabytes` MB of realistic log NDJSON in a worker (see
 * packager-large-worker.js); returns its id, the SHA-256 of its whole NDJSON, size and counts.
 */
export const seedLarge = (product, megabytes, application = 'editor') =>
  new Promise((resolve, reject) => {
    const w = new Worker('/tests/e2e/pages/packager-large-worker.js', { type: 'module' });
    w.onmessage = (e) => {
      w.terminate();
      if (e.data.ok) resolve(e.data);
      else reject(new Error(e.data.error));
    };
    w.onerror = (e) => reject(new Error(`generator worker failed: ${e.message}`));
    w.postMessage({ product, megabytes, application });
  });

let worker;
/** The built worker (dist/ferry-worker.js) wrapped with comlink, started on first use. */
export const api = () => (worker ??= Comlink.wrap(new Worker('/dist/ferry-worker.js', { type: 'module' })));

export const blobToBase64 = async (blob) => {
  const bytes = new Uint8Array(await blob.arrayBuffer());
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
};

export { Comlink };
