// DOM helpers of the viewer: every value from the API or a package goes in as text
// (textContent, attributes via setAttribute), never as HTML.

/** `el('td', { class: 'num' }, 'text', childNode, …)`: attributes, then children (strings become text). */
export const el = (tag, attrs = {}, ...children) => {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === false || v === null) continue;
    if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else if (k === 'class') e.className = v;
    else e.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue;
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
};

const SVG = 'http://www.w3.org/2000/svg';
export const svg = (tag, attrs = {}, ...children) => {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  for (const c of children) e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return e;
};

export const TIME_ZONE = Intl.DateTimeFormat().resolvedOptions().timeZone;

const full = new Intl.DateTimeFormat(undefined, {
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
  fractionalSecondDigits: 3,
  hourCycle: 'h23',
});
const short = new Intl.DateTimeFormat(undefined, { dateStyle: 'short', timeStyle: 'medium', hourCycle: 'h23' });

/** Date, time and milliseconds in the viewer's time zone. */
export const fmtTime = (ms) => (Number.isFinite(ms) ? full.format(new Date(ms)) : '—');
export const fmtShort = (ms) => (Number.isFinite(ms) ? short.format(new Date(ms)) : '—');

export const fmtBytes = (n) => {
  if (!Number.isFinite(n)) return '—';
  if (n < 1024) return `${n} B`;
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MiB`;
  return `${(n / 1024 ** 3).toFixed(2)} GiB`;
};

export const ago = (ms, now = Date.now()) => {
  const s = Math.round((now - ms) / 1000);
  // A time ahead of this computer's clock (an agent clock the collector did not correct).
  if (s < 0) return fmtShort(ms);
  if (s < 90) return `${s} s ago`;
  if (s < 5400) return `${Math.round(s / 60)} min ago`;
  if (s < 129600) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86400)} d ago`;
};

export const SEVERITIES = ['critical', 'error', 'warning', 'information', 'verbose'];
export const severityRank = (s) => 4 - SEVERITIES.indexOf(s);

export const severitySelect = (name, value) =>
  el('select', { name }, el('option', { value: '' }, 'any'), ...SEVERITIES.map((s) => el('option', { value: s, selected: s === value }, s)));

/** A small inline SVG line of counts, with its numbers as its accessible name. */
export const sparkline = (values, label) => {
  const w = 100;
  const h = 24;
  const max = Math.max(1, ...values);
  const step = values.length > 1 ? w / (values.length - 1) : w;
  const points = values.map((v, i) => `${(i * step).toFixed(1)},${(h - 2 - (v / max) * (h - 4)).toFixed(1)}`).join(' ');
  return svg(
    'svg',
    { class: 'spark', viewBox: `0 0 ${w} ${h}`, width: w, height: h, role: 'img', 'aria-label': label },
    svg('title', {}, label),
    svg('polyline', { points, fill: 'none', stroke: '#b00020', 'stroke-width': 1.5 }),
  );
};
