// Sums the rows the fault suite wrote (test-results/faults/*.json, one file per test file) into
// one table, prints it, writes test-results/faults.json, and fails when the run injected fewer
// faults than the target (`--clean` first empties that folder) or when anything was lost or duplicated.
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const MIN_FAULTS = 500;
const dir = resolve(import.meta.dirname, '../test-results/faults');
// --clean: forget an earlier run's rows before a new run writes its own.
if (process.argv.includes('--clean')) {
  rmSync(dir, { recursive: true, force: true });
  process.exit(0);
}
const files = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.json')) : [];
if (files.length === 0) {
  console.error('faults report: no results in test-results/faults/ (run the fault suite first)');
  process.exit(1);
}
const parts = files.map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')));
const rows = parts.flatMap((p) => p.rows.map((r) => ({ file: p.file, ...r })));
const total = rows.reduce(
  (t, r) => ({
    faultClass: 'total',
    rounds: t.rounds + r.rounds,
    faults: t.faults + r.faults,
    sessions: Object.fromEntries(Object.keys(t.sessions).map((k) => [k, t.sessions[k] + r.sessions[k]])),
    messages: Object.fromEntries(Object.keys(t.messages).map((k) => [k, t.messages[k] + r.messages[k]])),
  }),
  {
    faultClass: 'total',
    rounds: 0,
    faults: 0,
    sessions: { expected: 0, delivered: 0, duplicated: 0 },
    messages: { expected: 0, delivered: 0, lost: 0, duplicated: 0 },
  },
);
const head = ['fault class', 'rounds', 'faults', 'sessions exp', 'deliv', 'dup', 'messages exp', 'deliv', 'lost', 'dup'];
const cells = [
  head,
  ...[...rows, total].map((r) =>
    [
      r.faultClass,
      r.rounds,
      r.faults,
      r.sessions.expected,
      r.sessions.delivered,
      r.sessions.duplicated,
      r.messages.expected,
      r.messages.delivered,
      r.messages.lost,
      r.messages.duplicated,
    ].map(String),
  ),
];
const widths = head.map((_, i) => Math.max(...cells.map((c) => c[i].length)));
const line = (c) => `| ${c.map((v, i) => (i === 0 ? v.padEnd(widths[i]) : v.padStart(widths[i]))).join(' | ')} |`;
const seeds = [...new Set(parts.map((p) => `${p.file}=${p.seed}`))].join(', ');
console.log(`\nFault-injection suite (seeds: ${seeds})`);
console.log([line(head), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...cells.slice(1).map(line)].join('\n'));
writeFileSync(resolve(dir, '../faults.json'), `${JSON.stringify({ seeds: Object.fromEntries(parts.map((p) => [p.file, p.seed])), rows, total }, null, 2)}\n`);
const bad = [];
if (total.faults < MIN_FAULTS) bad.push(`${total.faults} faults injected, fewer than ${MIN_FAULTS}`);
if (total.messages.lost || total.messages.duplicated || total.sessions.duplicated || total.sessions.delivered !== total.sessions.expected)
  bad.push('sessions or messages lost or duplicated');
if (bad.length) {
  console.error(`faults report: ${bad.join('; ')}`);
  process.exit(1);
}
