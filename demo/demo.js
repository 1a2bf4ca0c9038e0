// The demo uses the built ESM agent exactly as an app would (`import { init, log } from '@ferry-telemetry/agent'`).
import * as Ferry from '../dist/ferry.js';

Ferry.init({
  product: 'Acme Suite',
  application: 'Demo App',
  version: '1.0.0',
  server: { url: location.origin, ingestKey: 'demo-key', autoSendSessions: true },
  capture: { console: true },
});
Ferry.log.information('Demo', 'demo page loaded', { url: location.href });

const $ = (id) => document.getElementById(id);
for (const b of document.querySelectorAll('[data-log]')) {
  b.addEventListener('click', () => Ferry.log[b.dataset.log]('Demo', `${b.dataset.log} button clicked`, { at: new Date().toISOString() }));
}
$('burst').addEventListener('click', () => {
  for (let i = 0; i < 1000; i++) Ferry.log.verbose('Burst', `message ${i}`);
});
$('throw').addEventListener('click', () => {
  setTimeout(() => {
    throw new Error('Demo uncaught error');
  });
});
$('reject').addEventListener('click', () => {
  void Promise.reject(new Error('Demo unhandled rejection'));
});

Ferry.on('state', (st) => {
  $('sender').textContent = [
    `${st.leader ? 'this tab is the sender' : 'another tab is the sender'} — ${st.phase}`,
    `sent ${st.sent}, queued ${st.queued}, failures ${st.failures}${st.lastError ? ` (${st.lastError})` : ''}`,
    st.nextCheckAt ? `next check ${new Date(st.nextCheckAt).toLocaleTimeString()}` : '',
    ...st.parked.map((p) => `parked ${p.id}: ${p.reason}`),
  ]
    .filter(Boolean)
    .join('\n');
});
$('send-now').addEventListener('click', () => Ferry.sendNow());

let job;
for (const b of document.querySelectorAll('[data-destination]')) {
  b.addEventListener('click', async () => {
    const criteria = [...document.querySelectorAll('input[name=criteria]:checked')].map((i) => i.value);
    job = new AbortController();
    $('cancel').disabled = false;
    $('report').textContent = 'packaging…';
    try {
      const r = await Ferry.packager.send({
        criteria,
        destination: b.dataset.destination,
        description: $('description').value || undefined,
        signal: job.signal,
        onProgress: (p) =>
          ($('report').textContent =
            `${p.phase}: ${p.sessionsDone}/${p.sessionsTotal} sessions, ${(p.bytesDone / 1024).toFixed(0)} of ${(p.bytesTotal / 1024).toFixed(0)} KB`),
      });
      $('report').textContent =
        r.status === 'sent'
          ? `sent ${r.sessions.length} session(s), ${(r.bytes / 1024).toFixed(1)} KB, to ${r.destination}${r.fileName ? ` as ${r.fileName}` : ''}`
          : r.status === 'empty'
            ? 'no session matches those criteria'
            : 'cancelled';
    } catch (e) {
      $('report').textContent = `${e.name}: ${e.message}`;
    } finally {
      $('cancel').disabled = true;
    }
  });
}
$('cancel').addEventListener('click', () => job?.abort());

const readSessions = () =>
  new Promise((resolve) => {
    const open = indexedDB.open('ferry:demo');
    open.onerror = () => resolve([]);
    open.onsuccess = () => {
      const db = open.result;
      if (!db.objectStoreNames.contains('sessions')) return resolve([]);
      const req = db.transaction('sessions').objectStore('sessions').getAll();
      req.onsuccess = () => {
        resolve(req.result);
        db.close();
      };
    };
  });

const render = async () => {
  await Ferry.flush();
  const s = Ferry.getSessionSummary();
  if (s) {
    $('status').textContent = [
      `session   ${s.id} (${s.status}, stored in ${s.persistence})`,
      `messages  ${s.messageCount}  — critical ${s.counts.critical}, error ${s.counts.error}, warning ${s.counts.warning}, information ${s.counts.information}, verbose ${s.counts.verbose}`,
      `stored    ${(s.bytes / 1024).toFixed(1)} KB`,
      `dropped   beforeLog ${s.dropped.beforeLog}, overflow ${s.dropped.overflow}, pruned ${s.dropped.pruned}`,
    ].join('\n');
  }
  const rows = (await readSessions()).sort((a, b) => b.startedAt - a.startedAt).slice(0, 20);
  $('sessions').innerHTML = rows
    .map(
      (r) =>
        `<tr><td>${new Date(r.startedAt).toLocaleString()}</td><td>${r.application}</td><td>${r.status}${r.id === s?.id ? ' (this tab)' : ''}</td><td>${r.messageCount}</td><td>${r.counts.error + r.counts.critical}</td><td>${r.counts.warning}</td><td>${(r.bytes / 1024).toFixed(1)}</td></tr>`,
    )
    .join('');
};
setInterval(render, 1000);
void Ferry.ready().then(render);
