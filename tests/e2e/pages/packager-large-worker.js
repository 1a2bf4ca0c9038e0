// Generates a large ended session straight into IndexedDB off the main thread (so the page's
// long-task measurements see only the packager), in 1,000-message chunks as the agent stores
// them. Replies with its id, size, counts and the SHA-256 of its whole NDJSON.

import { sessionRecord } from '/tests/e2e/pages/inspect.js';
import { newId, open } from '/tests/e2e/pages/packager-fixtures.js';

const SEVERITIES = ['critical', 'error', 'warning', 'information', 'verbose'];
const done = (tx) =>
  new Promise((resolve, reject) => {
    tx.oncomplete = resolve;
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error);
  });

self.onmessage = async (e) => {
  try {
    const { product, megabytes, application } = e.data;
    const id = newId();
    const idJson = JSON.stringify(id);
    const cats = ['Net', 'Ui', 'Db', 'Auth', 'Render'];
    const sev = ['information', 'verbose', 'warning', 'information', 'information', 'error'];
    let x = 12345;
    const rnd = (n) => (x = (x * 1103515245 + 12345) & 0x7fffffff) % n;
    const enc = new TextEncoder();
    const parts = [];
    const counts = Object.fromEntries(SEVERITIES.map((s) => [s, 0]));
    let seq = 0;
    let bytes = 0;
    const db = await open(product);
    while (bytes < megabytes * 1e6) {
      let text = '';
      const first = seq + 1;
      const c = Object.fromEntries(SEVERITIES.map((s) => [s, 0]));
      for (let i = 0; i < 1000; i++) {
        seq++;
        const s = sev[seq % 6];
        c[s]++;
        counts[s]++;
        text += `{"sessionId":${idJson},"seq":${seq},"time":${1_700_000_000_000 + seq * 13},"severity":"${s}","category":"${cats[seq % 5]}","text":"GET /api/items/${rnd(5000)} answered ${200 + rnd(3)} in ${rnd(900)} ms","details":{"bytes":${rnd(1e6)},"user":"u${rnd(50)}","cache":${rnd(2) === 1}}}\n`;
      }
      bytes += text.length;
      parts.push(enc.encode(text));
      const tx = db.transaction('chunks', 'readwrite');
      tx.objectStore('chunks').put({ sessionId: id, seq: first, lastSeq: seq, count: 1000, counts: c, bytes: text.length, text });
      await done(tx);
    }
    const startedAt = Date.now() - 60_000;
    const tx = db.transaction('sessions', 'readwrite');
    tx.objectStore('sessions').put(
      sessionRecord({ id, product, application, startedAt, endedAt: startedAt + 1000, counts, messageCount: seq, lastSeq: seq, bytes }),
    );
    await done(tx);
    db.close();
    const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', await new Blob(parts).arrayBuffer()));
    self.postMessage({ ok: true, id, sha256: Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join(''), bytes, messages: seq, counts });
  } catch (err) {
    self.postMessage({ ok: false, error: String(err?.stack || err) });
  }
};
