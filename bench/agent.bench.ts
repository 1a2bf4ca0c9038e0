// Page-agent benchmark (issue 2): what log() costs the page for realistic messages (a category,
// ~200 characters of text that differ per message, a small details object built per call), in
// Chromium with an on-disk profile. Per scenario, after one cold run and WARM_RUNS interleaved
// warm runs: the call site, the main-thread time until flush() has resolved, the persisted
// rate (checked against what the session says it stored), long tasks, and the overflow path
// of a buffer burst past its limit. Reference rows measured in the same page give the floor.
// Results also go to bench/results/agent.json (ignored by git: they belong to one machine and run).
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext, CDPSession, Page } from 'playwright-core';
import { AGENT_PAGE, agentLoaded, type TestWindow } from '../tests/support/agentPage.js';
import { launchPersistent } from '../tests/support/browser.js';
import { type StaticServer, startStaticServer } from '../tests/support/static-server.js';

/** Messages per run of the burst scenarios. */
const N = 100_000;
/** Each scenario runs once cold (JIT, a new database growing), then this many times warm. */
const WARM_RUNS = 7;
/** Calls per task in the sliced scenario: ~1,000 calls take a few ms, so no slice is a long task of the app's own. */
const SLICE = 1_000;
/** Small enough that today's O(buffer) overflow path still finishes in seconds. */
const OVERFLOW_LIMIT = 10_000;
const OVERFLOW_CALLS = 30_000;

const TARGET = {
  callUs: 0.5,
  mainUs: 1,
  persistedPerS: 300_000,
  slicedLongTasks: 0,
  overflowRatio: 2,
} as const;

type Workload = 'information' | 'mixed';
type Reference = 'build' | 'push' | 'stringify' | 'post';
const REFERENCES: readonly Reference[] = ['build', 'push', 'stringify', 'post'];

interface LongTask {
  /** ms after the loop started (negative: the task that began before it, i.e. the one holding a synchronous loop). */
  start: number;
  ms: number;
}

interface BurstRun {
  /** Time inside the logging loop(s) only. */
  callMs: number;
  /** Loop start to flush() resolved. */
  totalMs: number;
  /** When the last logging call returned, ms after the loop started. */
  loopEndMs: number;
  /** messageCount delta of the session summary. */
  stored: number;
  longTasks: LongTask[];
}

interface OverflowRun {
  beforeLimitMs: number;
  pastLimitMs: number;
  dropped: number;
  stored: number;
}

interface StoredCheck {
  sessionId: string;
  summaryCount: number;
  /** Lines found in the session's stored chunks; null when the chunks are not NDJSON strings. */
  lines: number | null;
  chunks: number;
}

interface MessageShape {
  textChars: number;
  detailsJsonChars: number;
  categories: string[];
  severities: Record<string, number>;
}

/** The in-page half, installed once per page so warm runs reuse warm code. */
interface BenchApi {
  shape(sample: number): MessageShape;
  burst(workload: Workload, n: number, base: number, slice: number): Promise<BurstRun>;
  reference(kind: Reference, n: number, base: number): Promise<{ callMs: number; kept: number }>;
  overflow(limit: number, total: number, base: number): Promise<OverflowRun>;
  checkStored(product: string): Promise<StoredCheck>;
}
interface BenchWindow extends TestWindow {
  ferryBench: BenchApi;
}

/** Defines BenchApi in the page. Self-contained: it runs in the browser, not here. */
const installBench = (): void => {
  const w = window as unknown as BenchWindow;
  const { Ferry } = w;
  const CATEGORIES = ['Http', 'Render', 'Store', 'Auth', 'Router'];
  const hash = (i: number): number => Math.imul(i, 2654435761) >>> 0;
  const category = (i: number): string => CATEGORIES[i % CATEGORIES.length];
  const text = (i: number): string =>
    `GET /api/orders/${i}?include=lines,customer answered 200 in ${(hash(i) % 900) + 12} ms; request ${hash(i).toString(16).padStart(8, '0')}-${(i % 65536).toString(16)}, cache miss, retried once after 502 from upstream gateway eu-west-1; route orders.detail, pool api-7, 2 attempts`;
  const details = (i: number) => ({
    orderId: i,
    status: 200,
    durationMs: 35.2 + (i % 50),
    tags: ['api', 'orders'],
    user: { id: 'u-123', plan: 'pro' },
  });
  /** 0.1% error, ~6% warning, ~38% verbose, the rest information; decorrelated from the category. */
  const mix = (i: number): 'error' | 'warning' | 'verbose' | 'information' => {
    if (i % 1000 === 999) return 'error';
    const r = (hash(i) >>> 8) % 100;
    return r < 6 ? 'warning' : r < 44 ? 'verbose' : 'information';
  };
  const { log } = Ferry;
  // Separate call sites per severity, as in an app, rather than one log[severity](…) site.
  const logMixed = (i: number): void => {
    const s = mix(i);
    if (s === 'information') log.information(category(i), text(i), details(i));
    else if (s === 'verbose') log.verbose(category(i), text(i), details(i));
    else if (s === 'warning') log.warning(category(i), text(i), details(i));
    else log.error(category(i), text(i), details(i));
  };

  // setTimeout(0) is clamped to 4 ms once nested 5 deep (100 chained yields took 441 ms in this
  // Chromium), which would cap the sliced burst at 250k msgs/s by itself; a posted message is
  // a real task boundary without the clamp.
  const channel = new MessageChannel();
  let resume: (() => void) | undefined;
  channel.port1.onmessage = () => resume?.();
  // pageTask: measured work starts with this, so it runs in an ordinary page task. In the task
  // that runs a CDP evaluation itself, Chromium reports no long task (a 600 ms loop there gave
  // none), and an app never logs from there.
  const nextTask = (): Promise<void> =>
    new Promise<void>((r) => {
      resume = r;
      channel.port2.postMessage(null);
    });

  let lastCategory = '';
  let lastText = '';
  let lastDetails: ReturnType<typeof details> | undefined;

  const summary = () => {
    const s = Ferry.getSessionSummary();
    if (!s) throw new Error('the agent has no session (init failed?)');
    return s;
  };

  const observeLongTasks = () => {
    const seen: PerformanceEntry[] = [];
    const obs = new PerformanceObserver((list) => seen.push(...list.getEntries()));
    obs.observe({ type: 'longtask' });
    return {
      /** The entry of a task exists once that task has ended: call after a task boundary. */
      take(origin: number): LongTask[] {
        seen.push(...obs.takeRecords());
        obs.disconnect();
        return seen.map((e) => ({ start: e.startTime - origin, ms: e.duration }));
      },
    };
  };

  w.ferryBench = {
    shape(sample) {
      let textChars = 0;
      let detailsJsonChars = 0;
      const severities: Record<string, number> = {};
      for (let i = 0; i < sample; i++) {
        textChars += text(i).length;
        detailsJsonChars += JSON.stringify(details(i)).length;
        severities[mix(i)] = (severities[mix(i)] ?? 0) + 1;
      }
      for (const k of Object.keys(severities)) severities[k] /= sample;
      return { textChars: textChars / sample, detailsJsonChars: detailsJsonChars / sample, categories: CATEGORIES, severities };
    },

    async burst(workload, n, base, slice) {
      await nextTask(); // see pageTask
      const before = summary().messageCount;
      const longTasks = observeLongTasks();
      let callMs = 0;
      const t0 = performance.now();
      for (let from = base; from < base + n; from += slice) {
        const to = Math.min(base + n, from + slice);
        const s0 = performance.now();
        if (workload === 'information') for (let i = from; i < to; i++) log.information(category(i), text(i), details(i));
        else for (let i = from; i < to; i++) logMixed(i);
        callMs += performance.now() - s0;
        if (to < base + n) await nextTask();
      }
      const loopEnd = performance.now();
      await Ferry.flush();
      const t2 = performance.now();
      const stored = summary().messageCount - before;
      await nextTask(); // the task that resolved flush() gets its long-task entry only once it ends
      return { callMs, totalMs: t2 - t0, loopEndMs: loopEnd - t0, stored, longTasks: longTasks.take(t0) };
    },

    async reference(kind, n, base) {
      await nextTask(); // see pageTask
      const out: unknown[] = [];
      const t0 = performance.now();
      // What the app pays to build the arguments: each kept only until the next call (a variable
      // outside the loop, so the allocations cannot be optimised away), as log() arguments are.
      if (kind === 'build')
        for (let i = base; i < base + n; i++) {
          lastCategory = category(i);
          lastText = text(i);
          lastDetails = details(i);
        }
      // The message Ferry keeps (time, severity, category, text, details), built the same way.
      else if (kind === 'stringify')
        for (let i = base; i < base + n; i++)
          out.push(JSON.stringify({ time: Date.now(), severity: 'information', category: category(i), text: text(i), details: details(i) }));
      // What handing the raw messages to a worker would cost the main thread: postMessage
      // structured-clones each batch of 1,000 in the call (the other port stays unread).
      else if (kind === 'post') {
        const { port1 } = new MessageChannel();
        let batch: unknown[] = [];
        for (let i = base; i < base + n; i++) {
          batch.push({ time: Date.now(), severity: 'information', category: category(i), text: text(i), details: details(i) });
          if (batch.length === 1000) {
            port1.postMessage(batch);
            for (let k = 0; k < batch.length; k++) out.push(1);
            batch = [];
          }
        }
        if (batch.length) port1.postMessage(batch);
        for (let k = 0; k < batch.length; k++) out.push(1);
        port1.close();
      } else
        for (let i = base; i < base + n; i++)
          out.push({ time: Date.now(), severity: 'information', category: category(i), text: text(i), details: details(i) });
      const callMs = performance.now() - t0;
      // Returned so the work cannot be optimised away.
      return { callMs, kept: kind === 'build' ? (lastText.length && lastCategory.length && lastDetails ? n : 0) : out.length };
    },

    async overflow(limit, total, base) {
      await nextTask(); // see pageTask
      const before = summary();
      let t1 = 0;
      const t0 = performance.now();
      for (let k = 0; k < total; k++) {
        if (k === limit) t1 = performance.now();
        logMixed(base + k);
      }
      const t2 = performance.now();
      await Ferry.flush();
      const after = summary();
      return {
        beforeLimitMs: t1 - t0,
        pastLimitMs: t2 - t1,
        dropped: after.dropped.overflow - before.dropped.overflow,
        stored: after.messageCount - before.messageCount,
      };
    },

    // Reads the chunks with raw IndexedDB, not through the agent, so a writer that only counted
    // would show up here.
    async checkStored(product) {
      const s = summary();
      const db = await new Promise<IDBDatabase>((resolve, reject) => {
        const r = indexedDB.open(`ferry:${product}`);
        r.onsuccess = () => resolve(r.result);
        r.onerror = () => reject(r.error);
      });
      let lines: number | null = 0;
      let chunks = 0;
      await new Promise<void>((resolve, reject) => {
        const cursor = db
          .transaction('chunks')
          .objectStore('chunks')
          .openCursor(IDBKeyRange.bound([s.id, 0], [s.id, Infinity]));
        cursor.onerror = () => reject(cursor.error);
        cursor.onsuccess = () => {
          const c = cursor.result;
          if (!c) return resolve();
          chunks++;
          const t = (c.value as { text?: unknown }).text;
          if (typeof t !== 'string') lines = null;
          else if (lines !== null) for (let at = t.indexOf('\n'); at !== -1; at = t.indexOf('\n', at + 1)) lines++;
          c.continue();
        };
      });
      db.close();
      return { sessionId: s.id, summaryCount: s.messageCount, lines, chunks };
    },
  };
};

interface BenchPage {
  page: Page;
  cdp: CDPSession;
  product: string;
}

const openBenchPage = async (context: BrowserContext, server: StaticServer, product: string, maxBufferedMessages?: number): Promise<BenchPage> => {
  const page = await context.newPage();
  await page.goto(server.url + AGENT_PAGE);
  await agentLoaded(page);
  await page.evaluate(installBench);
  await page.evaluate(
    async ([product, maxBuffered]) => {
      const storage = maxBuffered === null ? { maxLocalBytes: 1e10 } : { maxLocalBytes: 1e10, maxBufferedMessages: maxBuffered };
      W().Ferry.init({ product, application: 'bench', version: '1', storage });
      await W().Ferry.ready();
    },
    [product, maxBufferedMessages ?? null] as const,
  );
  const cdp = await context.newCDPSession(page);
  await cdp.send('Performance.enable');
  return { page, cdp, product };
};

/**
 * Runs `fn` on a quiet page: brought to the front, garbage from earlier runs (any scenario)
 * collected first so it is not charged to this one. Returns main-thread task time over `fn`.
 */
const measured = async <T>(p: BenchPage, fn: () => Promise<T>): Promise<{ r: T; taskMs: number }> => {
  await p.page.bringToFront();
  await p.cdp.send('HeapProfiler.collectGarbage');
  const taskSeconds = async () => (await p.cdp.send('Performance.getMetrics')).metrics.find((m) => m.name === 'TaskDuration')?.value ?? NaN;
  const before = await taskSeconds();
  const r = await fn();
  return { r, taskMs: ((await taskSeconds()) - before) * 1000 };
};

const api = (p: BenchPage) => ({
  burst: (workload: Workload, n: number, base: number, slice: number) =>
    p.page.evaluate(([w, n, b, s]) => (window as unknown as BenchWindow).ferryBench.burst(w, n, b, s), [workload, n, base, slice] as const),
  reference: (kind: Reference, n: number, base: number) =>
    p.page.evaluate(([k, n, b]) => (window as unknown as BenchWindow).ferryBench.reference(k, n, b), [kind, n, base] as const),
  overflow: (limit: number, total: number, base: number) =>
    p.page.evaluate(([l, t, b]) => (window as unknown as BenchWindow).ferryBench.overflow(l, t, b), [limit, total, base] as const),
  checkStored: () => p.page.evaluate((product) => (window as unknown as BenchWindow).ferryBench.checkStored(product), p.product),
  shape: (sample: number) => p.page.evaluate((s) => (window as unknown as BenchWindow).ferryBench.shape(s), sample),
});

// ---------- figures ----------

interface Stat {
  cold: number;
  median: number;
  min: number;
  max: number;
}
/** values[0] is the cold run; median and range are of the warm ones. */
const stat = (values: number[]): Stat => {
  const warm = values.slice(1).sort((a, b) => a - b);
  const mid = warm.length >> 1;
  return { cold: values[0], median: warm.length % 2 ? warm[mid] : (warm[mid - 1] + warm[mid]) / 2, min: warm[0], max: warm[warm.length - 1] };
};

interface BurstFigures {
  callUs: number;
  /** callUs less the build-only reference of the same round: what log() itself adds. */
  ferryCallUs: number;
  mainUs: number;
  ferryMainUs: number;
  outsideLoopUs: number;
  persistedPerS: number;
  stored: number;
  longTasks: number;
  longestMs: number;
  longTasksAfterLoop: number;
  longestAfterLoopMs: number;
}
interface RefRun {
  callMs: number;
  taskMs: number;
}
const burstFigures = (r: BurstRun, taskMs: number, build: RefRun, n: number): BurstFigures => {
  const after = r.longTasks.filter((t) => t.start >= r.loopEndMs);
  const callUs = (r.callMs * 1000) / n;
  const mainUs = (taskMs * 1000) / n;
  return {
    callUs,
    ferryCallUs: callUs - (build.callMs * 1000) / n,
    mainUs,
    ferryMainUs: mainUs - (build.taskMs * 1000) / n,
    outsideLoopUs: mainUs - callUs,
    persistedPerS: n / (r.totalMs / 1000),
    stored: r.stored,
    longTasks: r.longTasks.length,
    longestMs: Math.max(0, ...r.longTasks.map((t) => t.ms)),
    longTasksAfterLoop: after.length,
    longestAfterLoopMs: Math.max(0, ...after.map((t) => t.ms)),
  };
};
const FIGURE_KEYS = [
  'callUs',
  'ferryCallUs',
  'mainUs',
  'ferryMainUs',
  'outsideLoopUs',
  'persistedPerS',
  'stored',
  'longTasks',
  'longestMs',
  'longTasksAfterLoop',
  'longestAfterLoopMs',
] as const satisfies readonly (keyof BurstFigures)[];

const columnsOf = <K extends string>(runs: Record<K, number>[], keys: readonly K[]): Record<K, Stat> =>
  Object.fromEntries(keys.map((k) => [k, stat(runs.map((r) => r[k]))])) as Record<K, Stat>;

// ---------- printing ----------

const us = (v: number) => v.toFixed(2);
const ms = (v: number) => v.toFixed(1);
const int = (v: number) => Math.round(v).toLocaleString('en-US');
const range = (s: Stat, f: (v: number) => string) => `${f(s.min)}–${f(s.max)}`;

/** Prints rows under headers with every column padded to its widest cell. */
const table = (headers: string[], rows: string[][], rightAligned: boolean[]): void => {
  const widths = headers.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, c) => (rightAligned[c] ? cell.padStart(widths[c]) : cell.padEnd(widths[c])))
      .join('  ')
      .trimEnd();
  console.log(line(headers));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of rows) console.log(line(r));
};

const gitCommit = (): string | undefined => {
  try {
    return execFileSync('git', ['rev-parse', 'HEAD'], { cwd: import.meta.dirname, encoding: 'utf8' }).trim();
  } catch {
    return undefined;
  }
};

export default async function agentBench(): Promise<void> {
  // The machine is shared: the load beside the figures tells a slow run from a slow agent.
  const loadAtStart = loadavg()[0];
  const server = await startStaticServer();
  const { context, dispose } = await launchPersistent();
  try {
    // A page (so a session, and its own database) per scenario, each kept for all its runs so
    // the warm runs are warm; the reference rows share the information page.
    const pages = {
      information: await openBenchPage(context, server, 'bench-information'),
      mixed: await openBenchPage(context, server, 'bench-mixed'),
      sliced: await openBenchPage(context, server, 'bench-sliced'),
      overflow: await openBenchPage(context, server, 'bench-overflow', OVERFLOW_LIMIT),
    };
    const browserVersion = (await pages.information.cdp.send('Browser.getVersion')).product;
    const shape = await api(pages.information).shape(1000);

    const bursts = {
      information: { page: pages.information, workload: 'information' as const, slice: N, label: 'information, one synchronous loop' },
      mixed: { page: pages.mixed, workload: 'mixed' as const, slice: N, label: 'mixed severities, one synchronous loop' },
      sliced: { page: pages.sliced, workload: 'mixed' as const, slice: SLICE, label: `mixed severities, ${SLICE.toLocaleString('en-US')} calls per task` },
    };
    type BurstName = keyof typeof bursts;
    const burstNames = Object.keys(bursts) as BurstName[];
    const burstRuns: Record<BurstName, { raw: BurstRun; taskMs: number }[]> = { information: [], mixed: [], sliced: [] };
    const refRuns: Record<Reference, RefRun[]> = { build: [], push: [], stringify: [], post: [] };
    const overflowRuns: OverflowRun[] = [];

    // Rounds interleave the scenarios so drift (the other load on this machine, databases
    // growing) reaches all of them alike. `base` makes every message of a session distinct.
    for (let round = 0; round <= WARM_RUNS; round++) {
      for (const name of burstNames) {
        const b = bursts[name];
        const { r, taskMs } = await measured(b.page, () => api(b.page).burst(b.workload, N, round * N, b.slice));
        burstRuns[name].push({ raw: r, taskMs });
      }
      for (const kind of REFERENCES) {
        const { r, taskMs } = await measured(pages.information, () => api(pages.information).reference(kind, N, round * N));
        if (r.kept !== N) throw new Error(`reference ${kind} kept ${r.kept} of ${N}`);
        refRuns[kind].push({ callMs: r.callMs, taskMs });
      }
      const { r } = await measured(pages.overflow, () => api(pages.overflow).overflow(OVERFLOW_LIMIT, OVERFLOW_CALLS, round * OVERFLOW_CALLS));
      overflowRuns.push(r);
      process.stdout.write(`round ${round + 1}/${WARM_RUNS + 1} done\n`);
    }

    const checks: Record<string, StoredCheck & { expected: number }> = {};
    for (const name of burstNames) checks[name] = { ...(await api(bursts[name].page).checkStored()), expected: N * (WARM_RUNS + 1) };
    checks.overflow = { ...(await api(pages.overflow).checkStored()), expected: OVERFLOW_LIMIT * (WARM_RUNS + 1) };

    const burstFiguresOf = (name: BurstName) => burstRuns[name].map((x, round) => burstFigures(x.raw, x.taskMs, refRuns.build[round], N));
    const burstStats = Object.fromEntries(burstNames.map((name) => [name, columnsOf(burstFiguresOf(name), FIGURE_KEYS)])) as Record<
      BurstName,
      Record<(typeof FIGURE_KEYS)[number], Stat>
    >;

    const verdicts: Record<string, boolean> = {};
    const judge = (id: string, ok: boolean) => {
      verdicts[id] = ok;
      return ok ? 'ok' : 'MISS';
    };

    console.log(
      `\nlog() bursts of ${int(N)} messages: category one of ${shape.categories.length} (${shape.categories.join(', ')}), ` +
        `text ${shape.textChars.toFixed(0)} chars varying per message, details ${shape.detailsJsonChars.toFixed(0)} chars of JSON, built per call`,
    );
    const sev = Object.entries(shape.severities)
      .map(([s, f]) => `${s} ${(100 * f).toFixed(1)}%`)
      .join(', ');
    console.log(`mixed severities: ${sev}; on-disk profile; ${browserVersion}`);
    const machine = { cores: cpus().length, loadAtStart, loadAtEnd: loadavg()[0] };
    console.log(
      `machine: ${machine.cores} cores, 1-minute load average ${machine.loadAtStart.toFixed(1)} at the start, ${machine.loadAtEnd.toFixed(1)} at the end`,
    );
    console.log(`1 cold run, then ${WARM_RUNS} warm runs interleaved across scenarios; median and min–max are of the warm runs`);
    console.log("call site = the logging loop, building each message included (as in an app); log()'s part = less the build-only row below");
    console.log("main thread = CDP Performance.getMetrics TaskDuration over loop + flush(); log()'s part = less the build-only row's\n");

    const rows: string[][] = [];
    for (const name of burstNames) {
      const s = burstStats[name];
      const sync = bursts[name].slice >= N;
      const figure = (label: string, st: Stat, f: (v: number) => string, target = '', verdict = '') => [
        label,
        f(st.cold),
        f(st.median),
        range(st, f),
        target,
        verdict,
      ];
      const figures = [
        figure('call site µs/call', s.callUs, us),
        figure("  log()'s part", s.ferryCallUs, us, `≤ ${TARGET.callUs}`, judge(`${name}.callUs`, s.ferryCallUs.median <= TARGET.callUs)),
        figure('main thread µs/message', s.mainUs, us),
        figure("  log()'s part", s.ferryMainUs, us, `≤ ${TARGET.mainUs}`, judge(`${name}.mainUs`, s.ferryMainUs.median <= TARGET.mainUs)),
        figure('  outside the loop', s.outsideLoopUs, us),
        figure(
          'persisted msgs/s',
          s.persistedPerS,
          int,
          `≥ ${int(TARGET.persistedPerS)}`,
          judge(`${name}.persistedPerS`, s.persistedPerS.median >= TARGET.persistedPerS),
        ),
        figure(
          'stored per run (summary)',
          s.stored,
          int,
          `= ${int(N)}`,
          judge(
            `${name}.stored`,
            burstRuns[name].every((x) => x.raw.stored === N),
          ),
        ),
        figure(
          'long tasks',
          s.longTasks,
          int,
          sync ? '(the loop is 1)' : `= ${TARGET.slicedLongTasks}`,
          sync ? '' : judge(`${name}.longTasks`, s.longTasks.max <= TARGET.slicedLongTasks),
        ),
        figure('  longest ms', s.longestMs, ms),
        figure('long tasks after the loop', s.longTasksAfterLoop, int),
        figure('  longest ms', s.longestAfterLoopMs, ms),
      ];
      rows.push(...figures.map((cells, i) => [i === 0 ? bursts[name].label : '', ...cells]));
    }
    table(['scenario', 'figure', 'cold', 'median', 'min–max', 'target', 'verdict'], rows, [false, false, true, true, true, false, false]);
    console.log('(verdicts: median of the warm runs; long tasks: the worst warm run; stored: every run)');

    // References: the same message built the same way in the same page, without Ferry.
    const refStats = (kind: Reference) => ({
      callUs: stat(refRuns[kind].map((x) => (x.callMs * 1000) / N)),
      mainUs: stat(refRuns[kind].map((x) => (x.taskMs * 1000) / N)),
    });
    const refs = { build: refStats('build'), push: refStats('push'), stringify: refStats('stringify'), post: refStats('post') };
    const refLabel: Record<Reference, string> = {
      build: 'build the message only (each dropped)',
      push: 'build + array push of the message object',
      stringify: 'build + JSON.stringify(message) + array push',
      post: 'build + postMessage to a worker, per 1,000',
    };
    const info = burstStats.information;
    const ratios = Object.fromEntries(
      REFERENCES.map((k) => [k, { callSite: info.callUs.median / refs[k].callUs.median, mainThread: info.mainUs.median / refs[k].mainUs.median }]),
    ) as Record<Reference, { callSite: number; mainThread: number }>;
    console.log('\nreference rows: information messages, same builder, same page, one synchronous loop; ratios = Ferry information ÷ row, of medians');
    table(
      ['row', 'call site µs/call', 'min–max', 'main thread µs/msg', 'min–max', 'Ferry ÷ row, call site', 'Ferry ÷ row, main thread'],
      [
        ['Ferry log.information (from above)', us(info.callUs.median), range(info.callUs, us), us(info.mainUs.median), range(info.mainUs, us), '', ''],
        ...REFERENCES.map((k) => [
          refLabel[k],
          us(refs[k].callUs.median),
          range(refs[k].callUs, us),
          us(refs[k].mainUs.median),
          range(refs[k].mainUs, us),
          `${ratios[k].callSite.toFixed(1)}×`,
          `${ratios[k].mainThread.toFixed(1)}×`,
        ]),
      ],
      [false, true, true, true, true, true, true],
    );
    console.log('(reference main thread: TaskDuration over the loop alone, garbage collection included)');

    const past = OVERFLOW_CALLS - OVERFLOW_LIMIT;
    const ovBefore = stat(overflowRuns.map((r) => (r.beforeLimitMs * 1000) / OVERFLOW_LIMIT));
    const ovPast = stat(overflowRuns.map((r) => (r.pastLimitMs * 1000) / past));
    const ovRatio = stat(overflowRuns.map((r) => r.pastLimitMs / past / (r.beforeLimitMs / OVERFLOW_LIMIT)));
    const ovDropped = stat(overflowRuns.map((r) => r.dropped));
    const ovStored = stat(overflowRuns.map((r) => r.stored));
    console.log(
      `\nburst past the buffer limit: maxBufferedMessages ${int(OVERFLOW_LIMIT)}, ${int(OVERFLOW_CALLS)} mixed-severity calls in one synchronous loop`,
    );
    table(
      ['figure', 'cold', 'median', 'min–max', 'target', 'verdict'],
      [
        [`call site µs/call, calls 1–${int(OVERFLOW_LIMIT)}`, us(ovBefore.cold), us(ovBefore.median), range(ovBefore, us), '', ''],
        ['call site µs/call, calls past the limit', us(ovPast.cold), us(ovPast.median), range(ovPast, us), '', ''],
        [
          'past ÷ before',
          ovRatio.cold.toFixed(1),
          ovRatio.median.toFixed(1),
          range(ovRatio, (v) => v.toFixed(1)),
          `≤ ${TARGET.overflowRatio}×`,
          judge('overflow.ratio', ovRatio.median <= TARGET.overflowRatio),
        ],
        [
          'dropped.overflow per run',
          int(ovDropped.cold),
          int(ovDropped.median),
          range(ovDropped, int),
          `= ${int(past)}`,
          judge(
            'overflow.dropped',
            overflowRuns.every((r) => r.dropped === past),
          ),
        ],
        [
          'stored per run (summary)',
          int(ovStored.cold),
          int(ovStored.median),
          range(ovStored, int),
          `= ${int(OVERFLOW_LIMIT)}`,
          judge(
            'overflow.stored',
            overflowRuns.every((r) => r.stored === OVERFLOW_LIMIT),
          ),
        ],
      ],
      [false, true, true, true, false, false],
    );
    console.log('(ratio: per run, calls past the limit over calls before it)');

    console.log("\nstored messages read back from IndexedDB: raw cursor over each session's chunks, all runs");
    table(
      ['scenario', 'session', 'chunks', 'NDJSON lines', 'summary messageCount', 'expected', 'verdict'],
      Object.entries(checks).map(([name, c]) => [
        name,
        c.sessionId,
        int(c.chunks),
        c.lines === null ? 'not NDJSON text' : int(c.lines),
        int(c.summaryCount),
        int(c.expected),
        judge(`${name}.idb`, c.lines === c.expected && c.summaryCount === c.expected),
      ]),
      [false, false, true, true, true, true, false],
    );

    const missed = Object.entries(verdicts)
      .filter(([, ok]) => !ok)
      .map(([id]) => id);
    console.log(`\n${missed.length ? `targets missed: ${missed.join(', ')}` : 'all targets met'}`);

    const file = join(import.meta.dirname, 'results', 'agent.json');
    mkdirSync(join(import.meta.dirname, 'results'), { recursive: true });
    const result = {
      bench: 'agent',
      at: new Date().toISOString(),
      commit: gitCommit(),
      browser: browserVersion,
      machine,
      config: { n: N, warmRuns: WARM_RUNS, slice: SLICE, overflowLimit: OVERFLOW_LIMIT, overflowCalls: OVERFLOW_CALLS },
      messageShape: shape,
      targets: TARGET,
      verdicts,
      scenarios: Object.fromEntries(
        burstNames.map((name) => [
          name,
          {
            label: bursts[name].label,
            stats: burstStats[name],
            runs: burstFiguresOf(name).map((f, round) => ({ ...f, taskMs: burstRuns[name][round].taskMs, totalMs: burstRuns[name][round].raw.totalMs })),
          },
        ]),
      ),
      references: { stats: refs, ratiosOfFerryInformation: ratios, runs: refRuns },
      overflow: { beforeLimitUs: ovBefore, pastLimitUs: ovPast, ratio: ovRatio, dropped: ovDropped, stored: ovStored, runs: overflowRuns },
      storedCheck: checks,
    };
    writeFileSync(file, JSON.stringify(result, null, 2) + '\n');
    console.log(`results: ${file}`);
  } finally {
    await dispose();
    await server.close();
  }
}
