/**
 * Seeded rounds and the fault suite's table. The seed comes from FERRY_FAULT_SEED (to replay a
 * failing run) or is drawn and printed; each test file adds one row per fault class and, when it
 * ends, prints its rows and writes them to test-results/faults/<file>.json, which
 * scripts/faults-report.mjs sums into one table.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { after } from 'node:test';

export const SEED = process.env.FERRY_FAULT_SEED ? Number(process.env.FERRY_FAULT_SEED) : Math.floor(Math.random() * 2 ** 31);

/** xorshift32: small, fast and the same on every machine. */
export const rng = (seed: number) => {
  let x = seed >>> 0 || 0x9e3779b9;
  const next = (): number => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
  return {
    next,
    /** An integer in [lo, hi]. */
    int: (lo: number, hi: number): number => lo + Math.floor(next() * (hi - lo + 1)),
    pick: <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)] as T,
  };
};
export type Rng = ReturnType<typeof rng>;

export interface Row {
  faultClass: string;
  rounds: number;
  faults: number;
  sessions: { expected: number; delivered: number; duplicated: number };
  messages: { expected: number; delivered: number; lost: number; duplicated: number };
}

export interface Outcome {
  sessions: { expected: number; delivered: number; duplicated: number };
  messages: { expected: number; delivered: number; lost: number; duplicated: number };
}

export const emptyOutcome = (): Outcome => ({
  sessions: { expected: 0, delivered: 0, duplicated: 0 },
  messages: { expected: 0, delivered: 0, lost: 0, duplicated: 0 },
});

/**
 * Compares what the collector holds with what was expected: for each session, the seqs of its
 * messages (1..n, each once). A seq missing is lost, a seq twice is duplicated, a session stored
 * twice (two 'new' details) is a duplicated session.
 */
export const compare = (expected: ReadonlyMap<string, number>, delivered: ReadonlyMap<string, { seqs: number[]; stores: number }>): Outcome => {
  const o = emptyOutcome();
  for (const [id, n] of expected) {
    o.sessions.expected++;
    o.messages.expected += n;
    const d = delivered.get(id);
    if (!d) {
      o.messages.lost += n;
      continue;
    }
    o.sessions.delivered++;
    if (d.stores > 1) o.sessions.duplicated++;
    const seen = new Set<number>();
    for (const s of d.seqs) {
      if (seen.has(s)) o.messages.duplicated++;
      else if (s >= 1 && s <= n) {
        seen.add(s);
        o.messages.delivered++;
      }
    }
    o.messages.lost += n - seen.size;
  }
  return o;
};

const rows = new Map<string, Row>();

/** Adds one round's outcome to its fault class's row. */
export const record = (faultClass: string, faults: number, o: Outcome): void => {
  const r = rows.get(faultClass) ?? {
    faultClass,
    rounds: 0,
    faults: 0,
    sessions: { expected: 0, delivered: 0, duplicated: 0 },
    messages: { expected: 0, delivered: 0, lost: 0, duplicated: 0 },
  };
  r.rounds++;
  r.faults += faults;
  for (const k of ['expected', 'delivered', 'duplicated'] as const) r.sessions[k] += o.sessions[k];
  for (const k of ['expected', 'delivered', 'lost', 'duplicated'] as const) r.messages[k] += o.messages[k];
  rows.set(faultClass, r);
};

export const formatTable = (rs: readonly Row[]): string => {
  const head = ['fault class', 'rounds', 'faults', 'sessions exp', 'deliv', 'dup', 'messages exp', 'deliv', 'lost', 'dup'];
  const body = rs.map((r) => [
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
  ]);
  const cells = [head, ...body].map((row) => row.map(String));
  const widths = head.map((_, i) => Math.max(...cells.map((c) => c[i]?.length ?? 0)));
  return cells.map((c) => `| ${c.map((v, i) => (i === 0 ? v.padEnd(widths[i]!) : v.padStart(widths[i]!))).join(' | ')} |`).join('\n');
};

/** Prints this file's rows and writes them under test-results/faults/ once its tests are done. */
export const reportAtEnd = (file: string): void => {
  after(() => {
    const rs = [...rows.values()];
    const dir = resolve(import.meta.dirname, '../../../test-results/faults');
    mkdirSync(dir, { recursive: true });
    const name = basename(file).replace(/\.test\.ts$/, '');
    writeFileSync(join(dir, `${name}.json`), `${JSON.stringify({ file: name, seed: SEED, rows: rs }, null, 2)}\n`);
    console.log(`\nfaults (${name}, seed ${SEED}; replay with FERRY_FAULT_SEED=${SEED})\n${formatTable(rs)}\n`);
  });
};
