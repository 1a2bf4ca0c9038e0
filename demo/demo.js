// The demo uses the built ESM agent exactly as an app would (`import { init, log } from '@ferry-telemetry/agent'`),
// and only its public API: no IndexedDB reads of its own.
import * as Ferry from '../dist/ferry.js';

const params = new URLSearchParams(location.search);
const application = params.get('app') || 'Demo App';
const withServiceWorker = params.get('sw') === '1';
const $ = (id) => document.getElementById(id);

// `initialize` runs before anything is sent: an app would read its own opt-in record here.
Ferry.on('initialize', (e) => {
  e.options.consent = { ...e.options.consent, required: localStorage.getItem('demo:consent-required') === '1' };
});
Ferry.init({
  product: 'Acme Suite',
  application,
  version: '1.0.0',
  environment: 'demo',
  server: { url: location.origin, ingestKey: 'demo-key', autoSendSessions: true },
  capture: { console: true },
  consent: { companyName: 'Acme', serviceName: 'the Ferry demo', privacyPolicyUrl: 'https://example.com/privacy' },
  errorNotice: true,
  serviceWorker: withServiceWorker ? { url: '/dist/ferry-sw.js' } : false,
  // Scrubbing: e-mail addresses never reach IndexedDB.
  beforeLog: (m) => ({ ...m, text: m.text.replace(/[^\s@]+@[^\s@]+/g, '[email]') }),
});
Ferry.log.information('Demo', 'demo page loaded', { application, serviceWorker: withServiceWorker });

for (const b of document.querySelectorAll('[data-log]')) {
  b.addEventListener('click', () => Ferry.log[b.dataset.log]('Demo', `${b.dataset.log} button clicked`, { at: new Date().toISOString() }));
}
$('habit-error').addEventListener('click', () => Ferry.log.error(new Error('Saving failed'), { documentId: 42 }));
$('habit-warn').addEventListener('click', () => Ferry.log.warn('Disk almost full'));
const http = Ferry.createLogger('Http');
$('habit-logger').addEventListener('click', () => http.info('GET /api/items', { ms: 83 }));
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
$('scrub').addEventListener('click', () => Ferry.log.information('Account', 'signed in as jane.doe@example.com'));
$('report-crashed').addEventListener('click', () => Ferry.showReportDialog({ criteria: ['crashed'] }));

// Consent: ask (shows only while unanswered, at most consent.promptLimit times), grant, revoke.
const showConsent = () => ($('consent-state').textContent = `consent: ${Ferry.getConsent() ? 'granted' : 'not granted'}`);
$('consent-required').checked = localStorage.getItem('demo:consent-required') === '1';
$('consent-required').addEventListener('change', (e) => {
  localStorage.setItem('demo:consent-required', e.target.checked ? '1' : '0');
  Ferry.configure({ consent: { required: e.target.checked } });
});
$('consent-ask').addEventListener('click', async () => {
  const answer = await Ferry.showConsentDialog();
  $('consent-state').textContent =
    answer === undefined ? 'consent: not asked (answered before, or the prompt limit is used up)' : `consent: ${answer ? 'granted' : 'not granted'}`;
});
$('consent-grant').addEventListener('click', () => Ferry.setConsent(true));
$('consent-revoke').addEventListener('click', () => Ferry.setConsent(false));
Ferry.on('consent', showConsent);

$('user').addEventListener('change', (e) => Ferry.setUser(e.target.value ? { id: e.target.value } : null));
$('plan').addEventListener('change', (e) => Ferry.setContext('plan', e.target.value || undefined));
$('sw-toggle').textContent = withServiceWorker ? 'Turn the service worker off' : 'Turn the service worker on';
$('sw-toggle').href = withServiceWorker ? '?' : '?sw=1';
$('exit-send').addEventListener('click', () => {
  Ferry.setSendSessionsOnExit(true);
  $('exit-send').textContent = 'This session is sent when it ends';
});
$('clear').addEventListener('click', async () => {
  await Ferry.clearLocalData();
  $('status').textContent = 'local data deleted; the agent is stopped in every tab of the demo (reload to start again)';
});

let lastAlert = 'no alert yet';
Ferry.on('alert', (a) => {
  const m = a.messages.at(-1);
  lastAlert = `alert at ${new Date().toLocaleTimeString()}: ${a.messages.length} message(s), last ${m?.severity} "${m?.text}" (send this session now: ${a.sendSession})`;
});
let state;
let lastSend;
Ferry.on('state', (st) => {
  if (state && st.sent > state.sent) lastSend = new Date();
  state = st;
});
const offlineHint = () => {
  const off = !navigator.onLine || state?.phase === 'offline';
  $('offline').hidden = !off;
  $('status-panel').classList.toggle('offline', off);
  $('offline').textContent = off
    ? withServiceWorker
      ? 'Offline: sessions wait in the outbox; the service worker sends them when the network returns, even after this tab has closed.'
      : 'Offline: sessions wait in IndexedDB; this tab (or the next page load) sends them when the network returns. Turn the service worker on to send after the tab has closed.'
    : '';
};
addEventListener('online', offlineHint);
addEventListener('offline', offlineHint);

const kb = (n) => `${(n / 1024).toFixed(1)} KB`;
const render = async () => {
  await Ferry.flush();
  const s = Ferry.getSessionSummary();
  if (!s) return;
  $('status').textContent = [
    `this session  ${s.id} — ${application}, ${s.status}, stored in ${s.persistence}, ${kb(s.bytes)}`,
    `messages      ${s.messageCount}: critical ${s.counts.critical}, error ${s.counts.error}, warning ${s.counts.warning}, information ${s.counts.information}, verbose ${s.counts.verbose}`,
    `dropped       beforeLog ${s.dropped.beforeLog}, overflow ${s.dropped.overflow}, pruned ${s.dropped.pruned}`,
    `send on exit  ${$('exit-send').textContent.startsWith('This') ? 'yes' : 'no'} · consent ${Ferry.getConsent() ? 'granted' : 'not granted'} · service worker ${withServiceWorker ? 'on' : 'off'}`,
  ].join('\n');
  const st = state;
  $('sender').textContent = st
    ? [
        `${st.leader ? 'this tab is the sender' : 'another tab is the sender'} — ${st.phase}${st.paused ? ` (${st.paused})` : ''}`,
        `outbox: ${st.queued} waiting · sent ${st.sent} · failures ${st.failures}${st.lastError ? ` (${st.lastError})` : ''}`,
        `last send: ${lastSend ? lastSend.toLocaleTimeString() : 'none in this tab'}${st.nextCheckAt ? ` · next check ${new Date(st.nextCheckAt).toLocaleTimeString()}` : ''}`,
        ...st.parked.map((p) => `parked ${p.id}: ${p.reason}`),
      ].join('\n')
    : 'the sender has not reported yet';
  $('events').textContent = lastAlert;
  offlineHint();
  showConsent();
  // Local sessions and whether each still waits: the packager's preview (public API), never a direct read.
  const [all, unsent] = await Promise.all([
    Ferry.packager.preview({ criteria: ['completed', 'active'] }),
    Ferry.packager.preview({ criteria: ['new', 'active'] }),
  ]).catch(() => [[], []]);
  const waiting = new Set(unsent.map((x) => x.id));
  $('sessions').replaceChildren(
    ...all
      .sort((a, b) => b.startedAt - a.startedAt)
      .slice(0, 15)
      .map((r) => {
        const tr = document.createElement('tr');
        const cells = [
          new Date(r.startedAt).toLocaleTimeString(),
          r.application,
          `${r.status}${r.id === s.id ? ' (this tab)' : ''}`,
          r.messageCount,
          r.counts.error + r.counts.critical,
          r.status === 'running' ? 'recording' : waiting.has(r.id) ? 'not sent yet' : 'sent or packaged',
        ];
        for (const c of cells) tr.append(Object.assign(document.createElement('td'), { textContent: String(c) }));
        return tr;
      }),
  );
};
setInterval(() => void render().catch(() => {}), 1000);
void Ferry.ready().then(render);
