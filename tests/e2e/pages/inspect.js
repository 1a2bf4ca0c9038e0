// Reads a product database with the raw IndexedDB API (not through the agent), so tests
// check what is really stored.
const req = (r) => new Promise((resolve, reject) => { r.onsuccess = () => resolve(r.result); r.onerror = () => reject(r.error); });

export const open = (product) => req(indexedDB.open(`ferry:${product}`));

export async function read(product) {
  const dbs = await indexedDB.databases();
  if (!dbs.some((d) => d.name === `ferry:${product}`)) return { sessions: [], chunks: [], messages: [] };
  const db = await open(product);
  const tx = db.transaction(['sessions', 'chunks'], 'readonly');
  const sessions = await req(tx.objectStore('sessions').getAll());
  const chunks = await req(tx.objectStore('chunks').getAll());
  db.close();
  const messages = chunks.flatMap((c) => c.text.split('\n').filter(Boolean).map((l) => JSON.parse(l)));
  return { sessions, chunks: chunks.map(({ text, ...c }) => c), messages };
}

/** Stores ready-made sessions with one chunk each (fixtures for limit and packaging tests). */
export async function seed(product, sessions) {
  const db = await open(product);
  const tx = db.transaction(['sessions', 'chunks'], 'readwrite');
  for (const s of sessions) {
    const { text = '', ...record } = s;
    tx.objectStore('sessions').put(record);
    if (text) {
      const lines = text.split('\n').filter(Boolean).length;
      tx.objectStore('chunks').put({ sessionId: s.id, seq: 1, lastSeq: lines, count: lines, counts: s.counts, bytes: text.length, text });
    }
  }
  await new Promise((resolve, reject) => { tx.oncomplete = resolve; tx.onerror = () => reject(tx.error); tx.onabort = () => reject(tx.error); });
  db.close();
}
