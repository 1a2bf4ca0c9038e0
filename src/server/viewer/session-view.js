// One session: its facts (context, loss accounting), filters, a virtualised message list and the
// selected message in full (text, exception with stack, details). Used for stored sessions and
// for sessions of a package opened locally; the URL holds the filters and the selected message.
import { el, fmtBytes, fmtTime, SEVERITIES, severityRank, severitySelect, TIME_ZONE } from './dom.js';
import { virtualList } from './virtual-list.js';

const lossText = (d) => {
  if (!d) return 'not reported';
  const parts = [];
  if (d.beforeLog) parts.push(`${d.beforeLog} removed by the app's beforeLog`);
  if (d.overflow) parts.push(`${d.overflow} over the session's size limit`);
  if (d.pruned) parts.push(`${d.pruned} pruned for storage`);
  if (d.prunedSessions) parts.push(`${d.prunedSessions} older session(s) pruned (${d.prunedMessages} messages)`);
  for (const [k, v] of Object.entries(d))
    if (!['beforeLog', 'overflow', 'pruned', 'prunedSessions', 'prunedMessages'].includes(k) && v) parts.push(`${v} ${k}`);
  return parts.length ? parts.join('; ') : 'none';
};

const lost = (d) => Boolean(d && Object.values(d).some((v) => typeof v === 'number' && v > 0));

const facts = (s) => {
  const m = s.summary;
  const dl = el('dl', { class: 'facts' });
  const add = (k, v, cls) => dl.append(el('dt', {}, k), el('dd', cls ? { class: cls } : {}, v));
  add('Product / application', `${m.product} / ${m.application} ${m.version}`);
  add('Status', m.status, `status-${m.status}`);
  add('Started', `${fmtTime(s.startedAt ?? m.startedAt)}${(s.endedAt ?? m.endedAt) ? ` — ended ${fmtTime(s.endedAt ?? m.endedAt)}` : ''}`);
  add('Environment', m.environment ?? 'none given');
  add('User', m.user ? [m.user.id, m.user.name, m.user.email].filter(Boolean).join(' · ') : 'none given');
  add('Installation', m.installationId ?? 'unknown');
  add(
    'Context',
    m.context
      ? Object.entries(m.context)
          .map(([k, v]) => `${k}=${v}`)
          .join(', ')
      : 'none given',
  );
  add('URL', m.url ?? '—');
  add('User agent', m.userAgent ?? '—');
  add('Agent', `${m.agentVersion ?? '?'}, storage: ${m.persistence ?? '?'}`);
  if (s.clockOffsetMs !== undefined) add('Clock correction', s.clockOffsetMs ? `${Math.round(s.clockOffsetMs / 1000)} s added to agent times` : 'none');
  if (s.receivedAt) add('Received', `${fmtTime(s.receivedAt)} via ${s.source}${s.packageId ? ` (package ${s.packageId.slice(0, 12)}…)` : ''}`);
  add(
    'Messages',
    s.detail ? `${s.detail.messageCount} (${fmtBytes(s.detail.bytes)}, ${fmtBytes(s.detail.compressedBytes)} compressed)` : `${m.messageCount} counted`,
  );
  return dl;
};

const detailOf = (m) => {
  const box = el(
    'section',
    { class: 'message-detail', 'aria-label': `message ${m.seq}` },
    el('h3', {}, `#${m.seq} · `, el('span', { class: `sev-${m.severity}` }, m.severity), ` · ${m.category} · ${fmtTime(m.correctedTime ?? m.time)}`),
    el('pre', { class: 'text' }, m.text),
  );
  if (m.exception) {
    box.append(
      el(
        'details',
        { open: true },
        el('summary', {}, `${m.exception.name}: ${m.exception.message}`),
        el('pre', { class: 'stack' }, m.exception.stack ?? 'no stack recorded'),
      ),
    );
  }
  if (m.details !== undefined) box.append(el('details', { open: true }, el('summary', {}, 'Details'), el('pre', {}, JSON.stringify(m.details, null, 2))));
  return box;
};

/**
 * Renders the session into `root`. `load(progress)` resolves to every message (with
 * `correctedTime`); `params` are the URL's (minSeverity, q, seq); `navigate(params)` replaces them.
 */
export const renderSession = async ({ root, session, load, params, navigate, actions = [] }) => {
  const m = session.summary;
  const loss = m.dropped;
  root.replaceChildren(
    el('h2', {}, 'Session ', el('code', {}, m.id), ...actions),
    lost(loss)
      ? el('p', { class: 'loss', role: 'note' }, `Messages were lost: ${lossText(loss)}.`)
      : el('p', { class: 'no-loss' }, 'Nothing was dropped in this session.'),
    facts(session),
  );
  const form = el(
    'form',
    { class: 'filters', 'aria-label': 'message filters' },
    el('label', {}, 'At least ', severitySelect('minSeverity', params.get('minSeverity') ?? '')),
    el('label', {}, 'Text ', el('input', { name: 'q', value: params.get('q') ?? '', placeholder: 'text, category, exception' })),
    el('button', { type: 'submit' }, 'Filter'),
  );
  const status = el('p', { class: 'muted', role: 'status' }, 'Loading messages…');
  const detail = el('div', { class: 'detail-slot' });
  root.append(form, el('p', { class: 'muted' }, `Times in ${TIME_ZONE}.`), status);

  let all;
  try {
    all = await load((n, total) => {
      status.textContent = `Loading messages… ${n}${total ? ` of ${total}` : ''}`;
    });
  } catch (e) {
    status.textContent = `Cannot load messages: ${e.message}`;
    status.classList.add('error');
    return;
  }
  const min = params.get('minSeverity');
  const minRank = min && SEVERITIES.includes(min) ? severityRank(min) : -1;
  const q = (params.get('q') ?? '').toLowerCase();
  const shown = all.filter(
    (x) =>
      severityRank(x.severity) >= minRank &&
      (!q ||
        x.text.toLowerCase().includes(q) ||
        x.category.toLowerCase().includes(q) ||
        (x.exception && `${x.exception.name} ${x.exception.message}`.toLowerCase().includes(q))),
  );
  const selected = Number(params.get('seq'));
  const select = (x) => {
    detail.replaceChildren(detailOf(x));
    for (const r of list.querySelectorAll('.row[aria-current]')) r.removeAttribute('aria-current');
    list.querySelector(`.row[data-seq="${x.seq}"]`)?.setAttribute('aria-current', 'true');
    navigate({ seq: String(x.seq) });
  };
  const list = virtualList({
    label: `messages of session ${m.id}`,
    render: (i) => {
      const x = shown[i];
      const first = x.text.split('\n', 1)[0];
      const row = el(
        'button',
        { type: 'button', class: `row${x.seq === selected ? ' current' : ''}`, 'data-seq': x.seq, 'aria-current': x.seq === selected ? 'true' : undefined },
        el('span', { class: 'seq' }, x.seq),
        el('span', { class: 'time' }, fmtTime(x.correctedTime ?? x.time)),
        el('span', { class: `sev sev-${x.severity}` }, x.severity),
        el('span', { class: 'cat' }, x.category),
        el('span', { class: 'txt' }, x.exception ? `${first} — ${x.exception.name}: ${x.exception.message}` : first),
      );
      row.addEventListener('click', () => select(x));
      return el('div', { class: 'vrow' }, row);
    },
  });
  root.append(
    el(
      'div',
      { class: 'vhead', 'aria-hidden': 'true' },
      el('span', { class: 'seq' }, '#'),
      el('span', { class: 'time' }, 'Time'),
      el('span', { class: 'sev' }, 'Severity'),
      el('span', { class: 'cat' }, 'Category'),
      el('span', { class: 'txt' }, 'Text'),
    ),
    list,
    detail,
  );
  list.setCount(shown.length);
  status.textContent = `${shown.length} of ${all.length} message(s) shown.`;
  const at = shown.findIndex((x) => x.seq === selected);
  if (at >= 0) {
    list.scrollToIndex(at);
    detail.replaceChildren(detailOf(shown[at]));
  }
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const f = new FormData(form);
    navigate({ minSeverity: f.get('minSeverity') || undefined, q: f.get('q') || undefined, seq: undefined }, true);
  });
};
