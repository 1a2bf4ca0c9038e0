// Reads and writes a product database with the raw IndexedDB API (not through the agent), so tests
// check what is really stored. Sessions are read with their delivery row merged in (the fields the
// sending side keeps: detailState, sentAt, packagedAt…), and seeded the same way.
/** A UUIDv7 for `ms`, as the agent makes session ids (time-ordered, the rest random). */
export const idAt = (ms) => {
  const t = Math.floor(ms).toString(16).padStart(12, '0');
  const r = Array.from(crypto.getRandomValues(new Uint8Array(10)), (b) => b.toString(16).padStart(2, '0')).join('');
  return `${t.slice(0, 8)}-${t.slice(8, 12)}-7${r.slice(0, 3)}-8${r.slice(3, 6)}-${r.slice(6, 18)}`;
};

export const req = (r) =>
  new Promise((resolve, reject) => {
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error);
  });
export const done = (tx) =>
  new Promise((resolve, reject) => {
    tx.oncomplete = resolve;
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error);
  });

/** The agent's schema version 2 (src/core/db/migrations.ts), for databases a test creates first. */
const createV2 = (db) => {
  const s = db.createObjectStore('sessions', { keyPath: 'id' });
  s.createIndex('by-app', 'application');
  s.createIndex('by-status', 'status');
  db.createObjectStore('delivery', { keyPath: 'sessionId' });
  db.createObjectStore('chunks', { keyPath: ['sessionId', 'seq'] });
  db.createObjectStore('outbox', { keyPath: 'sessionId' });
  db.createObjectStore('meta');
};

/** Opens the product database at its current version, creating it with the agent's schema if absent. */
export const open = async (product) => {
  const name = `ferry:${product}`;
  const exists = (await indexedDB.databases()).some((d) => d.name === name);
  const r = exists ? indexedDB.open(name) : indexedDB.open(name, 2);
  r.onupgradeneeded = () => createV2(r.result);
  return req(r);
};

const DELIVERY_FIELDS = [
  'summarySentAt',
  'summaryStatus',
  'summarySeq',
  'detailState',
  'sentAt',
  'sentSeq',
  'packagedAt',
  'packagedSeq',
  'parked',
  'forceSend',
];

/**
 * A session record as the recording tab writes it (schema v2), for fixtures that seed sessions
 * without the agent: `o` gives what differs, the rest is a plain ended session of this page.
 */
export const sessionRecord = ({ endedAt: ended, ...o }) => {
  const endedAt = ended ?? o.startedAt + 500;
  return {
    version: '1.0',
    status: 'ended',
    ...(o.status === 'running' ? {} : { endedAt }),
    userAgent: navigator.userAgent,
    url: location.href,
    agentVersion: '0.1.0',
    persistence: 'indexeddb',
    dropped: { beforeLog: 0, overflow: 0, pruned: 0, prunedSessions: 0, prunedMessages: 0 },
    heartbeatAt: endedAt,
    ...o,
  };
};

/** A session spec with delivery fields → the session record and its delivery row (or undefined). */
export const splitDelivery = (s) => {
  const session = { ...s };
  const row = { sessionId: s.id, lastOp: 'migrated', updatedAt: Date.now() };
  let any = false;
  for (const k of DELIVERY_FIELDS) {
    if (!(k in session)) continue;
    if (session[k] !== undefined && session[k] !== 'none') {
      row[k] = session[k];
      any = true;
    }
    delete session[k];
  }
  if (row.sentAt !== undefined) {
    row.detailState ??= 'sent';
    row.sentSeq ??= s.lastSeq;
  }
  if (row.summarySentAt !== undefined) {
    row.summaryStatus ??= s.status;
    row.summarySeq ??= s.lastSeq;
  }
  if (row.packagedAt !== undefined) row.packagedSeq ??= s.lastSeq;
  return [session, any ? row : undefined];
};

/** Sessions with their delivery fields merged in. */
export const sessionsWithDelivery = async (db) => {
  const tx = db.transaction(['sessions', 'delivery'], 'readonly');
  const [sessions, rows] = await Promise.all([req(tx.objectStore('sessions').getAll()), req(tx.objectStore('delivery').getAll())]);
  const byId = new Map(rows.map((d) => [d.sessionId, d]));
  return sessions.map((s) => {
    const { sessionId: _id, lastOp: _op, updatedAt: _at, ...d } = byId.get(s.id) ?? {};
    return { ...s, ...d };
  });
};

export async function read(product) {
  const dbs = await indexedDB.databases();
  if (!dbs.some((d) => d.name === `ferry:${product}`)) return { sessions: [], chunks: [], messages: [] };
  const db = await open(product);
  const sessions = await sessionsWithDelivery(db);
  const chunks = await req(db.transaction('chunks', 'readonly').objectStore('chunks').getAll());
  db.close();
  const messages = chunks.flatMap((c) =>
    c.text
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l)),
  );
  return { sessions, chunks: chunks.map(({ text, ...c }) => c), messages };
}

/** Stores ready-made sessions with one chunk each (fixtures for limit and packaging tests). */
export async function seed(product, sessions) {
  const db = await open(product);
  const tx = db.transaction(['sessions', 'delivery', 'chunks'], 'readwrite');
  for (const s of sessions) {
    const { text = '', ...spec } = s;
    const [record, row] = splitDelivery(spec);
    tx.objectStore('sessions').put(record);
    if (row) tx.objectStore('delivery').put(row);
    if (text) {
      const lines = text.split('\n').filter(Boolean).length;
      tx.objectStore('chunks').put({ sessionId: s.id, seq: 1, lastSeq: lines, count: lines, counts: s.counts, bytes: text.length, text });
    }
  }
  await done(tx);
  db.close();
}
