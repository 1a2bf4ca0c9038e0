// The Ferry viewer: lists sessions and shows a session's messages through the collector's read
// API (docs/server.md). Plain JS served as is; every value from the API goes into the page as
// text (textContent), never as HTML.
import { ADMIN_AUTH_SCHEME, ADMIN_BASE as API } from './protocol.js';

const TOKEN_KEY = 'ferry-admin-token';
const $ = (sel) => document.querySelector(sel);

let sessionsCursor;
let currentSession;
let messagesNext;

const token = () => sessionStorage.getItem(TOKEN_KEY) ?? '';

const say = (el, text, isError = false) => {
  el.textContent = text;
  el.classList.toggle('error', isError);
};

const api = async (path) => {
  const res = await fetch(path, { headers: { authorization: `${ADMIN_AUTH_SCHEME} ${token()}` } });
  if (!res.ok) {
    let detail = `${res.status}`;
    try {
      const body = await res.json();
      detail = `${res.status} ${body.error}: ${body.detail}`;
    } catch {}
    throw new Error(detail);
  }
  return res;
};

const el = (tag, text, cls) => {
  const e = document.createElement(tag);
  if (text !== undefined) e.textContent = String(text);
  if (cls) e.className = cls;
  return e;
};

const fmtTime = (ms) => new Date(ms).toLocaleString(undefined, { dateStyle: 'short', timeStyle: 'medium' });

const filterParams = () => {
  const f = new FormData($('#filters'));
  const p = new URLSearchParams();
  for (const [k, v] of f) {
    if (v === '') continue;
    if (k === 'from' || k === 'to') p.set(k, String(new Date(v).getTime()));
    else if (k === 'context') {
      // "plan=pro, beta=true" → context.plan=pro&context.beta=true (the read API's syntax)
      for (const pair of v.split(',')) {
        const at = pair.indexOf('=');
        if (at > 0) p.set(`context.${pair.slice(0, at).trim()}`, pair.slice(at + 1).trim());
      }
    } else p.set(k, v);
  }
  return p;
};

const sessionRow = (s) => {
  const tr = document.createElement('tr');
  const c = s.summary.counts;
  tr.append(
    el('td', fmtTime(s.startedAt), 'num'),
    el('td', s.summary.product),
    el('td', s.summary.application),
    el('td', s.summary.version),
    el('td', s.summary.environment ?? '—'),
    el('td', s.summary.user?.id ?? '—'),
    el('td', s.summary.status, `status-${s.summary.status}`),
    el('td', s.worst ?? '—', s.worst ? `sev-${s.worst}` : ''),
    el('td', `${c.critical} / ${c.error} / ${c.warning} / ${c.information} / ${c.verbose}`, 'num'),
    el('td', s.detail ? `${s.detail.messageCount} received` : 'not received'),
  );
  tr.addEventListener('click', () => {
    document.querySelectorAll('#sessions tr.selected').forEach((r) => r.classList.remove('selected'));
    tr.classList.add('selected');
    openSession(s);
  });
  return tr;
};

const loadSessions = async (more = false) => {
  const p = filterParams();
  p.set('limit', '50');
  if (more && sessionsCursor) p.set('cursor', sessionsCursor);
  say($('#status'), 'Loading…');
  try {
    const body = await (await api(`${API}/sessions?${p}`)).json();
    const tbody = $('#sessions tbody');
    if (!more) tbody.replaceChildren();
    for (const s of body.sessions) tbody.append(sessionRow(s));
    sessionsCursor = body.next;
    $('#more-sessions').hidden = !body.next;
    say($('#status'), `${tbody.children.length} session(s) shown${body.next ? ', more available' : ''}.`);
  } catch (e) {
    say($('#status'), `Cannot list sessions: ${e.message}`, true);
  }
};

const loadChart = async () => {
  const p = filterParams();
  for (const k of ['status', 'minSeverity', 'detail']) p.delete(k);
  try {
    const body = await (await api(`${API}/counts?${p}`)).json();
    const svg = $('#chart');
    svg.replaceChildren();
    const n = body.buckets.length;
    const max = Math.max(1, ...body.buckets.map((b) => b.sessions));
    const w = 1000 / Math.max(1, n);
    const ns = 'http://www.w3.org/2000/svg';
    body.buckets.forEach((b, i) => {
      const h = (b.sessions / max) * 150;
      const bad = Math.min(h, (b.crashed / max) * 150);
      const bar = document.createElementNS(ns, 'rect');
      bar.setAttribute('x', String(i * w + 0.5));
      bar.setAttribute('width', String(Math.max(0.5, w - 1)));
      bar.setAttribute('y', String(160 - h));
      bar.setAttribute('height', String(h));
      bar.setAttribute('fill', '#7aa2f7');
      const title = document.createElementNS(ns, 'title');
      title.textContent = `${fmtTime(b.start)}: ${b.sessions} sessions, ${b.crashed} crashed, ${b.counts.error + b.counts.critical} error/critical messages`;
      bar.append(title);
      svg.append(bar);
      if (bad > 0) {
        const red = document.createElementNS(ns, 'rect');
        red.setAttribute('x', String(i * w + 0.5));
        red.setAttribute('width', String(Math.max(0.5, w - 1)));
        red.setAttribute('y', String(160 - bad));
        red.setAttribute('height', String(bad));
        red.setAttribute('fill', '#d9534f');
        red.append(title.cloneNode(true));
        svg.append(red);
      }
    });
    const total = body.buckets.reduce((a, b) => a + b.sessions, 0);
    $('#chart-legend').textContent =
      `${total} sessions from ${fmtTime(body.from)} to ${fmtTime(body.to)}, ${Math.round(body.bucketMs / 60000)} min per bar (red: crashed)`;
    $('#chart-section').hidden = false;
  } catch {
    $('#chart-section').hidden = true;
  }
};

const facts = (s) => {
  const dl = $('#session-facts');
  dl.replaceChildren();
  const add = (k, v) => dl.append(el('dt', k), el('dd', v));
  const m = s.summary;
  add('Product / application', `${m.product} / ${m.application} ${m.version}`);
  add('Status', m.status);
  add('Environment', m.environment ?? 'none given');
  add('User', m.user ? [m.user.id, m.user.name, m.user.email].filter(Boolean).join(' · ') : 'none given');
  add(
    'Context',
    m.context
      ? Object.entries(m.context)
          .map(([k, v]) => `${k}=${v}`)
          .join(', ')
      : 'none given',
  );
  add('Installation', m.installationId ?? 'unknown');
  add('Started', `${fmtTime(s.startedAt)}${s.endedAt ? ` — ended ${fmtTime(s.endedAt)}` : ''}`);
  add('Clock correction', s.clockOffsetMs ? `${Math.round(s.clockOffsetMs / 1000)} s added to agent times` : 'none');
  add('URL', m.url);
  add('User agent', m.userAgent);
  add('Agent', `${m.agentVersion}, storage: ${m.persistence}`);
  const d = m.dropped;
  add(
    'Dropped',
    `beforeLog ${d.beforeLog}, overflow ${d.overflow}, pruned ${d.pruned} (other sessions pruned: ${d.prunedSessions} / ${d.prunedMessages} messages)`,
  );
  add('Received', `${fmtTime(s.receivedAt)} via ${s.source}${s.packageId ? ` (package ${s.packageId.slice(0, 12)}…)` : ''}`);
  add('Messages', s.detail ? `${s.detail.messageCount} (${s.detail.bytes} bytes, ${s.detail.compressedBytes} compressed)` : 'not received');
};

const messageRow = (m) => {
  const tr = document.createElement('tr');
  let text = m.text;
  if (m.exception) text += `\n${m.exception.name}: ${m.exception.message}${m.exception.stack ? `\n${m.exception.stack}` : ''}`;
  if (m.details !== undefined) text += `\n${JSON.stringify(m.details, null, 2)}`;
  tr.append(
    el('td', m.seq, 'num'),
    el('td', new Date(m.correctedTime).toLocaleTimeString(undefined, { hour12: false, fractionalSecondDigits: 3 }), 'num'),
    el('td', m.severity, `sev-${m.severity}`),
    el('td', m.category),
    el('td', text),
  );
  return tr;
};

const loadMessages = async (more = false) => {
  if (!currentSession) return;
  const f = new FormData($('#message-filters'));
  const p = new URLSearchParams({ limit: '500' });
  for (const [k, v] of f) if (v !== '') p.set(k, v);
  if (more && messagesNext !== undefined) p.set('afterSeq', String(messagesNext));
  const tbody = $('#messages tbody');
  if (!more) tbody.replaceChildren();
  if (!currentSession.detail) {
    say($('#message-status'), 'The collector did not receive the messages of this session (its policy did not ask for them, or they are still on their way).');
    $('#more-messages').hidden = true;
    return;
  }
  try {
    const body = await (await api(`${API}/sessions/${encodeURIComponent(currentSession.summary.id)}/messages?${p}`)).json();
    for (const m of body.messages) tbody.append(messageRow(m));
    messagesNext = body.next;
    $('#more-messages').hidden = body.next === undefined;
    say($('#message-status'), `${tbody.children.length} of ${body.total} matching message(s).`);
  } catch (e) {
    say($('#message-status'), `Cannot load messages: ${e.message}`, true);
  }
};

const openSession = (s) => {
  currentSession = s;
  messagesNext = undefined;
  $('#session').hidden = false;
  $('#session-id').textContent = s.summary.id;
  $('#download').hidden = !s.detail;
  facts(s);
  void loadMessages();
  $('#session').scrollIntoView({ behavior: 'smooth' });
};

const refresh = () => {
  if (!token()) {
    say($('#status'), 'Enter the admin token (printed by the collector at start-up, or set in its config).');
    return;
  }
  void loadSessions();
  void loadChart();
};

$('#auth').addEventListener('submit', (e) => {
  e.preventDefault();
  sessionStorage.setItem(TOKEN_KEY, $('#token').value.trim());
  $('#token').value = '';
  refresh();
});
$('#forget').addEventListener('click', () => {
  sessionStorage.removeItem(TOKEN_KEY);
  $('#sessions tbody').replaceChildren();
  $('#session').hidden = true;
  refresh();
});
$('#filters').addEventListener('submit', (e) => {
  e.preventDefault();
  refresh();
});
$('#more-sessions').addEventListener('click', () => loadSessions(true));
$('#message-filters').addEventListener('submit', (e) => {
  e.preventDefault();
  messagesNext = undefined;
  void loadMessages();
});
$('#more-messages').addEventListener('click', () => loadMessages(true));
$('#close-session').addEventListener('click', () => {
  $('#session').hidden = true;
  currentSession = undefined;
});
$('#download').addEventListener('click', async () => {
  if (!currentSession) return;
  try {
    const blob = await (await api(`${API}/sessions/${encodeURIComponent(currentSession.summary.id)}/detail`)).blob();
    const a = el('a');
    a.href = URL.createObjectURL(blob);
    a.download = `${currentSession.summary.id}.ndjson.gz`;
    a.click();
    setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
  } catch (e) {
    say($('#message-status'), `Cannot download: ${e.message}`, true);
  }
});

refresh();
