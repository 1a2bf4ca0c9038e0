// The Ferry viewer: problems (exception groups), search across sessions, sessions, packages, and
// packages opened locally, through the collector's read API (docs/server.md). Plain JS served as
// is; every value goes into the page as text. The URL hash holds the view and its filters, so any
// view can be shared and reloads to the same place.
import { timeChart } from './chart.js';
import { ago, el, fmtBytes, fmtShort, fmtTime, severitySelect, sparkline } from './dom.js';
import { ADMIN_AUTH_SCHEME, ADMIN_BASE as API } from './protocol.js';
import { renderSession } from './session-view.js';

const TOKEN_KEY = 'ferry-admin-token';
const $ = (sel) => document.querySelector(sel);
const view = () => $('#view');
const token = () => sessionStorage.getItem(TOKEN_KEY) ?? '';

const say = (text, isError = false) => {
  const s = $('#status');
  s.textContent = text;
  s.classList.toggle('error', isError);
};

const api = async (path) => {
  const res = await fetch(`${API}${path}`, { headers: { authorization: `${ADMIN_AUTH_SCHEME} ${token()}` } });
  if (!res.ok) {
    let detail = `${res.status}`;
    try {
      const body = await res.json();
      detail = `${res.status} ${body.error}: ${body.detail}`;
    } catch {}
    throw new Error(detail);
  }
  return res.json();
};

// --- routing: #/<view>/<arg>?<params>

const parseHash = () => {
  const h = location.hash.replace(/^#\/?/, '');
  const [path, query = ''] = h.split('?');
  const [name = 'groups', arg] = path.split('/');
  return { name: name || 'groups', arg: arg ? decodeURIComponent(arg) : undefined, params: new URLSearchParams(query) };
};

const hashOf = (name, arg, params) => {
  const p = new URLSearchParams();
  for (const [k, v] of params ?? []) if (v !== undefined && v !== '') p.set(k, v);
  const q = p.toString();
  return `#/${name}${arg ? `/${encodeURIComponent(arg)}` : ''}${q ? `?${q}` : ''}`;
};

/** Changes some parameters of the current view: rerender for filters, in place for a selection. */
const navigate = (changes, rerender = false) => {
  const { name, arg, params } = parseHash();
  for (const [k, v] of Object.entries(changes)) {
    if (v === undefined || v === '') params.delete(k);
    else params.set(k, v);
  }
  const h = hashOf(name, arg, params);
  if (rerender) location.hash = h;
  else history.replaceState(null, '', h);
};

const link = (text, name, arg, params) => el('a', { href: hashOf(name, arg, params ? Object.entries(params) : undefined) }, text);

// --- shared filters (product, application, version, environment, user, context; time where it applies)

const FILTERS = [
  ['product', 'Product'],
  ['application', 'Application'],
  ['version', 'Version'],
  ['environment', 'Environment'],
  ['user', 'User id'],
];

const filterForm = (params, extra = [], submit = 'Show') => {
  const form = el('form', { class: 'filters', 'aria-label': 'filters' });
  for (const [k, label] of FILTERS) form.append(el('label', {}, label, el('input', { name: k, value: params.get(k) ?? '', placeholder: 'any' })));
  const ctx = [...params]
    .filter(([k]) => k.startsWith('context.'))
    .map(([k, v]) => `${k.slice(8)}=${v}`)
    .join(', ');
  form.append(
    el('label', {}, 'Context', el('input', { name: 'context', value: ctx, placeholder: 'plan=pro, beta=true', title: 'key=value pairs, all must match' })),
  );
  for (const x of extra) form.append(x);
  form.append(el('button', { type: 'submit' }, submit));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const { name, arg } = parseHash();
    const p = new URLSearchParams();
    for (const [k, v] of new FormData(form)) {
      if (v === '') continue;
      if (k === 'from' || k === 'to') p.set(k, String(new Date(v).getTime()));
      else if (k === 'context') {
        for (const pair of String(v).split(',')) {
          const at = pair.indexOf('=');
          if (at > 0) p.set(`context.${pair.slice(0, at).trim()}`, pair.slice(at + 1).trim());
        }
      } else p.set(k, String(v));
    }
    location.hash = hashOf(name, arg, p);
  });
  return form;
};

const localInput = (ms) => {
  if (!ms) return '';
  const d = new Date(Number(ms));
  return new Date(d.getTime() - d.getTimezoneOffset() * 60000).toISOString().slice(0, 16);
};
const timeInputs = (params) => [
  el('label', {}, 'From', el('input', { name: 'from', type: 'datetime-local', value: localInput(params.get('from')) })),
  el('label', {}, 'To', el('input', { name: 'to', type: 'datetime-local', value: localInput(params.get('to')) })),
];

const apiParams = (params, keep) => {
  const p = new URLSearchParams();
  for (const [k, v] of params) if (keep.includes(k) || k.startsWith('context.')) p.set(k, v);
  return p;
};
const SESSION_KEYS = ['product', 'application', 'version', 'environment', 'user', 'installation'];

const table = (caption, head, rows) =>
  el('table', {}, el('caption', {}, caption), el('thead', {}, el('tr', {}, ...head.map((h) => el('th', { scope: 'col' }, h)))), el('tbody', {}, ...rows));

// --- views

const groupsView = async ({ params }) => {
  const sort = params.get('sort') ?? 'recent';
  const sortSel = el(
    'select',
    { name: 'sort' },
    ...[
      ['recent', 'last seen'],
      ['hits', 'occurrences'],
      ['sessions', 'sessions'],
    ].map(([v, t]) => el('option', { value: v, selected: v === sort }, t)),
  );
  view().replaceChildren(el('h2', {}, 'Problems'), filterForm(params, [el('label', {}, 'Sort by', sortSel)]));
  const body = await api(`/groups?${apiParams(params, [...SESSION_KEYS, 'sort', 'offset'])}`);
  const rows = body.groups.map((g) =>
    el(
      'tr',
      {},
      el('td', {}, sparkline(g.spark, `${g.spark.reduce((a, b) => a + b, 0)} in the last 14 days`)),
      el('td', {}, link(g.name, 'group', g.id), el('div', { class: 'title' }, g.title)),
      el('td', { class: 'num' }, g.hits),
      el('td', { class: 'num' }, g.sessions),
      el('td', { class: 'num' }, g.users),
      el('td', { class: 'num', title: fmtTime(g.lastSeen) }, ago(g.lastSeen)),
      el('td', { class: 'num', title: fmtTime(g.firstSeen) }, fmtShort(g.firstSeen)),
      el('td', {}, `${g.product} · ${g.applications.join(', ')} · ${g.versions.join(', ')}`),
    ),
  );
  view().append(
    rows.length
      ? table(
          'Exception groups (same exception, message and top frames)',
          ['Last 14 days', 'Problem', 'Occurrences', 'Sessions', 'Users', 'Last seen', 'First seen', 'Where'],
          rows,
        )
      : el('p', {}, 'No problems recorded for these filters. Exceptions and errors are grouped as their sessions’ messages arrive.'),
  );
  if (body.next !== undefined) view().append(link('Next page', 'groups', undefined, { ...Object.fromEntries(params), offset: String(body.next) }));
  say(`${body.groups.length} problem(s).`);
};

const groupView = async ({ arg }) => {
  const body = await api(`/groups/${encodeURIComponent(arg)}`);
  const g = body.group;
  const x = body.counts.hits.map((_, i) => body.counts.from + i * body.counts.bucketMs);
  view().replaceChildren(
    el('p', {}, link('← Problems', 'groups')),
    el('h2', {}, `${g.name}: `, el('span', { class: 'title' }, g.title)),
    el(
      'dl',
      { class: 'facts' },
      el('dt', {}, 'Occurrences'),
      el('dd', {}, `${g.hits} in ${g.sessions} session(s), ${g.users} user(s)`),
      el('dt', {}, 'Seen'),
      el('dd', {}, `${fmtTime(g.firstSeen)} — ${fmtTime(g.lastSeen)}`),
      el('dt', {}, 'Where'),
      el(
        'dd',
        {},
        `${g.product} · ${g.applications.join(', ')} · versions ${g.versions.join(', ')}${g.environments.length ? ` · ${g.environments.join(', ')}` : ''}`,
      ),
    ),
    timeChart({
      title: 'Occurrences and sessions over time',
      x,
      series: [
        { label: 'occurrences', values: body.counts.hits, color: '#b00020' },
        { label: 'sessions', values: body.counts.sessions, color: '#1d4ed8' },
      ],
    }),
    el('h3', {}, 'Example'),
    el('pre', { class: 'text' }, g.example.text),
    el('details', { open: true }, el('summary', {}, 'Stack'), el('pre', { class: 'stack' }, g.example.stack ?? 'no stack recorded')),
    el('p', {}, link('Open the example message in its session', 'session', g.example.sessionId, { seq: String(g.example.seq) })),
    table(
      'Sessions with this problem, most recent first',
      ['Last hit', 'Occurrences', 'Application', 'Version', 'Environment', 'User', 'Session'],
      body.sessions.map((s) =>
        el(
          'tr',
          {},
          el('td', { class: 'num' }, fmtTime(s.lastSeen)),
          el('td', { class: 'num' }, s.hits),
          el('td', {}, s.session.summary.application),
          el('td', {}, s.session.summary.version),
          el('td', {}, s.session.summary.environment ?? '—'),
          el('td', {}, s.session.summary.user?.id ?? '—'),
          el('td', {}, link(s.session.summary.id, 'session', s.session.summary.id, { seq: String(s.firstSeq) })),
        ),
      ),
    ),
  );
  say(`${g.name}: ${g.hits} occurrence(s).`);
};

const searchView = async ({ params }) => {
  const q = params.get('q') ?? '';
  const qInput = el('input', { name: 'q', value: q, placeholder: 'words in text, category or exception', required: true, type: 'search' });
  view().replaceChildren(
    el('h2', {}, 'Search all sessions'),
    filterForm(
      params,
      [
        el('label', { class: 'wide' }, 'Words', qInput),
        el('label', {}, 'At least', severitySelect('minSeverity', params.get('minSeverity') ?? '')),
        ...timeInputs(params),
      ],
      'Search',
    ),
  );
  if (!q) {
    say('Type words to find; every word must match (as a word prefix).');
    return;
  }
  const body = await api(`/search?${apiParams(params, [...SESSION_KEYS, 'q', 'minSeverity', 'from', 'to', 'cursor'])}&limit=100`);
  view().append(
    body.hits.length
      ? table(
          `Messages matching “${q}”, newest first`,
          ['Time', 'Severity', 'Where', 'Category', 'Message'],
          body.hits.map((h) =>
            el(
              'tr',
              {},
              el('td', { class: 'num' }, fmtTime(h.time)),
              el('td', { class: `sev-${h.severity}` }, h.severity),
              el('td', {}, `${h.product} · ${h.application} ${h.version}`),
              el('td', {}, h.category),
              el('td', {}, link(h.text, 'session', h.sessionId, { seq: String(h.seq) })),
            ),
          ),
        )
      : el('p', {}, 'No message matches.'),
  );
  if (body.next) view().append(link('Older matches', 'search', undefined, { ...Object.fromEntries(params), cursor: body.next }));
  say(`${body.hits.length}${body.next ? '+' : ''} match(es).`);
};

const sessionRow = (s) =>
  el(
    'tr',
    {},
    el('td', { class: 'num' }, link(fmtTime(s.startedAt), 'session', s.summary.id)),
    el('td', {}, s.summary.product),
    el('td', {}, s.summary.application),
    el('td', {}, s.summary.version),
    el('td', {}, s.summary.environment ?? '—'),
    el('td', {}, s.summary.user?.id ?? '—'),
    el('td', { class: `status-${s.summary.status}` }, s.summary.status),
    el('td', { class: s.worst ? `sev-${s.worst}` : '' }, s.worst ?? '—'),
    el('td', { class: 'num' }, s.detail ? `${s.detail.messageCount} received` : 'not received'),
  );
const SESSION_HEAD = ['Started', 'Product', 'Application', 'Version', 'Environment', 'User', 'Status', 'Worst', 'Messages'];

const sessionsView = async ({ params }) => {
  const status = el(
    'select',
    { name: 'status' },
    el('option', { value: '' }, 'any'),
    ...['ended', 'crashed', 'running'].map((s) => el('option', { value: s, selected: params.get('status') === s }, s)),
  );
  view().replaceChildren(
    el('h2', {}, 'Sessions'),
    filterForm(params, [
      el('label', {}, 'Status', status),
      el('label', {}, 'At least', severitySelect('minSeverity', params.get('minSeverity') ?? '')),
      ...timeInputs(params),
    ]),
  );
  const p = apiParams(params, [...SESSION_KEYS, 'status', 'minSeverity', 'from', 'to', 'cursor']);
  const counts = apiParams(params, [...SESSION_KEYS, 'from', 'to']);
  const [list, c] = await Promise.all([api(`/sessions?${p}&limit=100`), api(`/counts?${counts}`).catch(() => undefined)]);
  if (c)
    view().append(
      timeChart({
        title: `Sessions and errors, ${Math.round(c.bucketMs / 60000)} min per bar`,
        x: c.buckets.map((b) => b.start),
        series: [
          { label: 'sessions', values: c.buckets.map((b) => b.sessions), color: '#1d4ed8' },
          { label: 'error+critical messages', values: c.buckets.map((b) => b.counts.error + b.counts.critical), color: '#b00020' },
          { label: 'crashed', values: c.buckets.map((b) => b.crashed), color: '#9a6700' },
        ],
      }),
    );
  view().append(table('Sessions, newest first', SESSION_HEAD, list.sessions.map(sessionRow)));
  if (list.next) view().append(link('Older sessions', 'sessions', undefined, { ...Object.fromEntries(params), cursor: list.next }));
  say(`${list.sessions.length} session(s) shown${list.next ? ', more available' : ''}.`);
};

const PAGE = 20_000;
const apiMessages = (s) => async (progress) => {
  const out = [];
  let after = 0;
  for (;;) {
    const body = await api(`/sessions/${encodeURIComponent(s.summary.id)}/messages?limit=${PAGE}&afterSeq=${after}`);
    out.push(...body.messages);
    progress(out.length, body.total);
    if (body.next === undefined) return out;
    after = body.next;
  }
};

const download = async (s) => {
  const res = await fetch(`${API}/sessions/${encodeURIComponent(s.summary.id)}/detail`, { headers: { authorization: `${ADMIN_AUTH_SCHEME} ${token()}` } });
  if (!res.ok) throw new Error(String(res.status));
  const a = el('a', { download: `${s.summary.id}.ndjson.gz` });
  a.href = URL.createObjectURL(await res.blob());
  a.click();
  setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
};

const sessionView = async ({ arg, params }) => {
  const s = await api(`/sessions/${encodeURIComponent(arg)}`);
  const root = el('div');
  view().replaceChildren(el('p', {}, link('← Sessions', 'sessions')), root);
  say(`Session of ${s.summary.application} ${s.summary.version}.`);
  const actions = s.detail
    ? [' ', el('button', { type: 'button', onclick: () => download(s).catch((e) => say(`Cannot download: ${e.message}`, true)) }, 'Download NDJSON (gzip)')]
    : [];
  if (!s.detail) {
    await renderSession({ root, session: s, params, navigate, load: async () => [] });
    root.append(el('p', {}, 'The collector did not receive the messages of this session (its policy did not ask for them, or they are still on their way).'));
    return;
  }
  await renderSession({ root, session: s, params, navigate, actions, load: apiMessages(s) });
};

const packagesView = async () => {
  const body = await api('/packages?limit=200');
  view().replaceChildren(
    el('h2', {}, 'Packages'),
    body.packages.length
      ? table(
          'Packages received (problem reports and exports), newest first',
          ['Received', 'Product', 'Description', 'Reply to', 'Sessions', 'Size', 'Open'],
          body.packages.map((p) =>
            el(
              'tr',
              {},
              el('td', { class: 'num' }, fmtTime(p.receivedAt)),
              el('td', {}, p.product),
              el('td', { class: 'desc' }, p.description ?? '—'),
              el('td', {}, p.replyTo ?? '—'),
              el(
                'td',
                { class: 'num' },
                p.storedSessions === undefined || p.storedSessions === p.sessionIds.length
                  ? p.sessionIds.length
                  : `${p.storedSessions} of ${p.sessionIds.length}`,
              ),
              el('td', { class: 'num' }, fmtBytes(p.storedBytes)),
              el('td', {}, link('Open', 'package', p.id)),
            ),
          ),
        )
      : el('p', {}, 'No package received yet.'),
  );
  say(`${body.packages.length} package(s).`);
};

const packageView = async ({ arg }) => {
  const body = await api('/packages?limit=500');
  const p = body.packages.find((x) => x.id === arg);
  if (!p) throw new Error('no such package (it may have been deleted by retention)');
  const sessions = (await Promise.all(p.sessionIds.map((id) => api(`/sessions/${encodeURIComponent(id)}`).catch(() => undefined)))).filter(Boolean);
  view().replaceChildren(
    el('p', {}, link('← Packages', 'packages')),
    el('h2', {}, `Package from ${fmtTime(p.receivedAt)}`),
    manifestFacts(p),
    table('Its sessions', SESSION_HEAD, sessions.map(sessionRow)),
  );
  say(`${sessions.length} session(s) in this package.`);
};

const manifestFacts = (p) =>
  el(
    'dl',
    { class: 'facts' },
    el('dt', {}, 'Description'),
    el('dd', { class: 'desc' }, p.description ?? 'none given'),
    el('dt', {}, 'Reply to'),
    el('dd', {}, p.replyTo ?? 'none given'),
    el('dt', {}, 'Product'),
    el('dd', {}, p.product),
    el('dt', {}, 'Created'),
    el('dd', {}, `${fmtTime(p.created)} by ${p.creator?.application ?? 'an app'} ${p.creator?.version ?? ''} (agent ${p.creator?.agentVersion ?? '?'})`),
    el('dt', {}, 'Selected by'),
    el('dd', {}, (p.criteria ?? []).join(', ') || '—'),
    // Chunks the packager could not read from the user's browser: messages missing from this package.
    p.problems?.length
      ? [
          el('dt', {}, 'Left out by the packager'),
          el(
            'dd',
            { class: 'problems' },
            `${p.problems.length + (p.problemsOmitted ?? 0)} stored chunk(s) could not be read`,
            el('ul', {}, ...p.problems.map((x) => el('li', {}, `session ${x.sessionId}, chunk ${x.chunkSeq}: ${x.reason}`))),
            p.problemsOmitted ? `and ${p.problemsOmitted} more` : undefined,
          ),
        ]
      : undefined,
  );

// --- a package opened locally, read in a worker (nothing is uploaded)

let local;
const openLocal = (file) => {
  local?.worker.terminate();
  const worker = new Worker('package-worker.js', { type: 'module' });
  local = { worker, name: file.name, waiting: new Map(), next: 1, cache: new Map() };
  const opened = new Promise((resolve, reject) => {
    worker.onmessage = (e) => {
      const m = e.data;
      if (m.type === 'opened') resolve(m);
      else if (m.type === 'messages') local.waiting.get(m.id)?.resolve(m.messages);
      else if (m.type === 'error') {
        if (m.id !== undefined) local.waiting.get(m.id)?.reject(new Error(m.message));
        else reject(new Error(m.message));
      }
    };
    worker.onerror = (e) => reject(new Error(e.message || 'the package reader failed'));
  });
  local.opened = opened.then((m) => (local.manifest = m.manifest));
  worker.postMessage({ type: 'open', file });
  if (location.hash === '#/local') void route();
  else location.hash = '#/local';
};

const localMessages = (sessionId) => {
  const hit = local.cache.get(sessionId);
  if (hit) return hit;
  const id = local.next++;
  const p = new Promise((resolve, reject) => local.waiting.set(id, { resolve, reject })).then((ms) => ms.map((m) => ({ ...m, correctedTime: m.time })));
  local.worker.postMessage({ type: 'messages', sessionId, id });
  local.cache.set(sessionId, p);
  return p;
};

const localView = async ({ arg, params }) => {
  if (!local) {
    view().replaceChildren(
      el('h2', {}, 'Package opened locally'),
      el('p', {}, 'Open the .ferry.zip again (a reload forgets it: the file never left your computer).'),
    );
    say('No package is open.');
    return;
  }
  say(`Reading ${local.name}…`);
  const manifest = await local.opened;
  if (arg) {
    const summary = manifest.sessions.find((s) => s.id === arg);
    if (!summary) throw new Error('the package has no such session');
    const root = el('div');
    view().replaceChildren(el('p', {}, link(`← ${local.name}`, 'local')), root);
    say(`Session from ${local.name} (read in this browser).`);
    await renderSession({
      root,
      session: { summary, startedAt: summary.startedAt, endedAt: summary.endedAt },
      params,
      navigate,
      load: () => localMessages(arg),
    });
    return;
  }
  view().replaceChildren(
    el('h2', {}, `Package ${local.name} `, el('small', {}, '(read in this browser, not uploaded)')),
    manifestFacts(manifest),
    table(
      'Its sessions',
      ['Started', 'Application', 'Version', 'Status', 'Messages', 'Session'],
      manifest.sessions.map((s) =>
        el(
          'tr',
          {},
          el('td', { class: 'num' }, fmtTime(s.startedAt)),
          el('td', {}, s.application),
          el('td', {}, s.version),
          el('td', { class: `status-${s.status}` }, s.status),
          el('td', { class: 'num' }, s.messageCount),
          el('td', {}, link(s.id, 'local', s.id)),
        ),
      ),
    ),
  );
  say(`${manifest.sessions.length} session(s) in ${local.name}.`);
};

const VIEWS = {
  groups: groupsView,
  group: groupView,
  search: searchView,
  sessions: sessionsView,
  session: sessionView,
  packages: packagesView,
  package: packageView,
  local: localView,
};
const NEEDS_TOKEN = new Set(['groups', 'group', 'search', 'sessions', 'session', 'packages', 'package']);

let routing = 0;
const route = async () => {
  const r = parseHash();
  const run = ++routing;
  for (const a of document.querySelectorAll('nav a[data-nav]')) {
    const on = a.dataset.nav === r.name || (a.dataset.nav === 'groups' && r.name === 'group') || (a.dataset.nav === 'sessions' && r.name === 'session');
    if (on) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  const fn = VIEWS[r.name] ?? groupsView;
  if (NEEDS_TOKEN.has(r.name) && !token()) {
    view().replaceChildren();
    say('Enter the admin token (printed by the collector at start-up, or set in its config).');
    return;
  }
  say('Loading…');
  try {
    await fn(r);
  } catch (e) {
    if (run === routing) say(`Cannot show this view: ${e.message}`, true);
  }
};

$('#auth').addEventListener('submit', (e) => {
  e.preventDefault();
  const v = $('#token').value.trim();
  if (!v) return;
  sessionStorage.setItem(TOKEN_KEY, v);
  $('#token').value = '';
  void route();
});
$('#forget').addEventListener('click', () => {
  sessionStorage.removeItem(TOKEN_KEY);
  void route();
});
$('#open-file').addEventListener('change', (e) => {
  const f = e.target.files?.[0];
  if (f) openLocal(f);
  e.target.value = '';
});
window.addEventListener('hashchange', () => void route());
void route();
