// Ferry beside Sentry (@sentry/browser) and Datadog (@datadog/browser-logs), issue 13: the same
// page, the same generated messages, one Chromium with an on-disk profile, runs interleaved
// (Ferry, Sentry, Datadog, repeat). Each SDK runs its minimal setup bundled by esbuild with the
// same settings (bench/peers/*.entry.js), and sends to a local backend (Ferry: the real
// collector; Sentry: a fake envelope endpoint reached through the DSN; Datadog: a fake intake
// reached through its `proxy` option), each behind the fault suite's loopback proxy, which
// counts the bytes on the wire. Results: printed, and written to bench/results/peers.json.
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import type { BrowserContext, Page } from 'playwright-core';
import { startProxy } from '../tests/faults/support/proxy.js';
import { launchPersistent } from '../tests/support/browser.js';
import { startStaticServer } from '../tests/support/static-server.js';
import { KEYS, startTestCollector, type TestCollector } from '../tests/unit/server/harness.js';

const ROOT = resolve(import.meta.dirname, '..');
const REPS = Number(process.env.PEERS_REPS ?? 5);
/** Messages per delivery run (the 10k). */
const N = Number(process.env.PEERS_N ?? 10_000);
/** Calls per call-site run: per-call figures, and Sentry's captureMessage takes ms each. */
const CALLS = Number(process.env.PEERS_CALLS ?? 5_000);
/** A delivery run ends when its backend has every message, or has had nothing new for this long. */
const STABLE_MS = 6_000;
/**
 * …but never before this long after the reopened page started: Ferry's first check comes 5 s
 * after start, Sentry's offline queue is flushed 5 s after start (then one envelope per 100 ms).
 */
const DELIVERY_MIN_MS = 15_000;
const DELIVERY_MAX_MS = 60_000;

type Sdk = 'ferry' | 'sentry' | 'datadog';
type Mode = 'ferry' | 'captureMessage' | 'breadcrumb' | 'logger.info' | 'reference';
const CALL_MODES: { sdk: Sdk; mode: Mode }[] = [
  { sdk: 'ferry', mode: 'ferry' },
  { sdk: 'sentry', mode: 'captureMessage' },
  { sdk: 'sentry', mode: 'breadcrumb' },
  { sdk: 'datadog', mode: 'logger.info' },
];
const TARGETS = {
  callVsBreadcrumb: 1,
  mainVsDatadog: 0.05,
  bundleVsDatadog: 0.5,
  delivery: 1,
} as const;

// ---------- bundles ----------

interface BundleSize {
  /** What the page loads before the SDK runs: the entry and the chunks it imports statically. */
  startup: { raw: number; gzip: number };
  /** Loaded later (dynamic imports, Ferry's worker). */
  later: { raw: number; gzip: number; files: string[] };
}

const gz = (b: Buffer | Uint8Array): number => gzipSync(b, { level: 9 }).length;

const bundle = async (outDir: string): Promise<Record<Sdk, BundleSize>> => {
  const sizes = {} as Record<Sdk, BundleSize>;
  for (const sdk of ['ferry', 'sentry', 'datadog'] as const) {
    const r = await build({
      entryPoints: [join(ROOT, 'bench/peers', `${sdk}.entry.js`)],
      bundle: true,
      minify: true,
      format: 'esm',
      splitting: true,
      target: 'es2020',
      platform: 'browser',
      outdir: outDir,
      entryNames: '[name]',
      chunkNames: `${sdk}-chunks/[name]-[hash]`,
      metafile: true,
      write: true,
      logLevel: 'error',
    });
    const outputs = r.metafile.outputs;
    const entry = Object.keys(outputs).find((k) => outputs[k]?.entryPoint?.endsWith(`${sdk}.entry.js`))!;
    const startup = new Set<string>([entry]);
    for (let grew = true; grew; ) {
      grew = false;
      for (const f of [...startup])
        for (const imp of outputs[f]?.imports ?? [])
          if (imp.kind === 'import-statement' && !startup.has(imp.path)) {
            startup.add(imp.path);
            grew = true;
          }
    }
    const mine = Object.keys(outputs).filter((k) => k.endsWith('.js') && (k === entry || k.includes(`${sdk}-chunks/`)));
    const size = (files: string[]) =>
      files.reduce(
        (a, f) => {
          const b = readFileSync(resolve(process.cwd(), f));
          return { raw: a.raw + b.length, gzip: a.gzip + gz(b) };
        },
        { raw: 0, gzip: 0 },
      );
    const later = mine.filter((f) => !startup.has(f));
    const laterSize = size(later);
    const laterFiles = later.map((f) => f.split('/').pop()!);
    if (sdk === 'ferry') {
      // The worker the agent starts for compression, next to its script (a separate file in dist/).
      const worker = join(ROOT, 'dist/ferry-worker.js');
      // The agent looks for it next to the module holding its script URL, which esbuild may put in a chunk.
      copyFileSync(worker, join(outDir, 'ferry-worker.js'));
      mkdirSync(join(outDir, 'ferry-chunks'), { recursive: true });
      copyFileSync(worker, join(outDir, 'ferry-chunks/ferry-worker.js'));
      const b = readFileSync(worker);
      laterSize.raw += b.length;
      laterSize.gzip += gz(b);
      laterFiles.push('ferry-worker.js');
    }
    sizes[sdk] = { startup: size([...startup]), later: { ...laterSize, files: laterFiles } };
  }
  return sizes;
};

// ---------- fake backends ----------

interface FakeBackend {
  url: string;
  /** Messages received per run tag. */
  received: Map<string, number>;
  close(): Promise<void>;
}

const body = (req: IncomingMessage): Promise<string> =>
  new Promise((r) => {
    const parts: Buffer[] = [];
    req.on('data', (d: Buffer) => parts.push(d));
    req.on('end', () => r(Buffer.concat(parts).toString('utf8')));
  });

/** Counts messages by the run tag each carries in its text (`[tag] …`). */
const countTags = (texts: string[], into: Map<string, number>): void => {
  for (const t of texts) {
    const m = /^\[([^\]]+)\]/.exec(t);
    if (m?.[1]) into.set(m[1], (into.get(m[1]) ?? 0) + 1);
  }
};

const fakeBackend = async (parse: (path: string, text: string) => string[]): Promise<FakeBackend> => {
  const received = new Map<string, number>();
  const server: Server = createServer(async (req, res) => {
    const cors = { 'access-control-allow-origin': '*', 'access-control-allow-headers': '*', 'access-control-allow-methods': 'POST, OPTIONS' };
    if (req.method === 'OPTIONS') {
      res.writeHead(204, cors).end();
      return;
    }
    const text = await body(req);
    try {
      countTags(parse(req.url ?? '', text), received);
    } catch {
      // A request the fake does not understand counts nothing.
    }
    res.writeHead(200, { ...cors, 'content-type': 'application/json' }).end('{}');
  });
  server.keepAliveTimeout = 5000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
};

/** Sentry envelopes: a header line, then (item header, payload) pairs; events carry `message`. */
const sentryMessages = (_path: string, text: string): string[] => {
  const lines = text.split('\n');
  const out: string[] = [];
  for (let i = 1; i + 1 < lines.length; i += 2) {
    const header = JSON.parse(lines[i]!) as { type?: string };
    if (header.type === 'event') {
      const ev = JSON.parse(lines[i + 1]!) as { message?: string | { formatted?: string } };
      out.push(typeof ev.message === 'string' ? ev.message : (ev.message?.formatted ?? ''));
    }
  }
  return out;
};

/** Datadog intake: NDJSON, one log per line with `message`. */
const datadogMessages = (_path: string, text: string): string[] =>
  text
    .split('\n')
    .filter(Boolean)
    .map((l) => (JSON.parse(l) as { message?: string }).message ?? '');

// ---------- runs ----------

interface CallRun {
  callUsPerMsg: number;
  mainUsPerMsg: number;
  longTasks: number;
  longTaskMs: number;
}

interface DeliveryRun {
  received: number;
  /** Bytes the page sent (request lines, headers and bodies), and received. */
  upBytes: number;
  downBytes: number;
  /** Script the page fetched before it closed (start-up, chunks, workers), gzip -9 each: what a page that logs and sends pays. */
  scriptGzip: number;
}

interface Env {
  context: BrowserContext;
  pageUrl: string;
  /** Every file the page server has served, in order. */
  served: string[];
  backends: Record<Sdk, { url: string; count(tag: string): Promise<number>; bytes: { up: number; down: number } }>;
}

let runNo = 0;
const newTag = (what: string): string => `${what}-${++runNo}`;

const openPeer = async (env: Env, sdk: Sdk, tag: string): Promise<Page> => {
  const page = await env.context.newPage();
  await page.goto(`${env.pageUrl}?sdk=${sdk}&tag=${tag}`);
  await page.waitForFunction(() => (window as unknown as { peerLoaded?: boolean }).peerLoaded === true);
  const b = env.backends[sdk];
  const url = sdk === 'sentry' ? b.url.replace('http://', 'http://publickey0123456789@').concat('/1') : b.url;
  await page.evaluate(([url, key, tag]) => (window as unknown as PeerWindow).Peer.init({ url, key, tag }), [url, KEYS.all, tag] as const);
  return page;
};

interface PeerWindow {
  Peer: {
    init(c: { url: string; key: string; tag: string }): Promise<void>;
    run(mode: Mode, from: number, to: number, gen: unknown): void;
    quiet(): Promise<void>;
  };
  gen: (i: number) => unknown;
  longTasks: number[];
}

/** Every origin's storage emptied, so each run starts as a first visit (no queue left by another run). */
const clearStorage = async (env: Env, page: Page): Promise<void> => {
  const cdp = await env.context.newCDPSession(page);
  await cdp.send('Storage.clearDataForOrigin', { origin: new URL(env.pageUrl).origin, storageTypes: 'all' });
  await cdp.detach();
};

const taskMs = async (cdp: import('playwright-core').CDPSession): Promise<number> => {
  const { metrics } = (await cdp.send('Performance.getMetrics')) as { metrics: { name: string; value: number }[] };
  return (metrics.find((m) => m.name === 'TaskDuration')?.value ?? 0) * 1000;
};

/** Waits until nothing has moved on the wire for `ms` (the SDK's own timers and sends are done). */
const wireIdle = async (bytes: { up: number; down: number }, ms: number): Promise<void> => {
  let last = bytes.up + bytes.down;
  let since = Date.now();
  for (;;) {
    await new Promise((r) => setTimeout(r, 100));
    const now = bytes.up + bytes.down;
    if (now !== last) {
      last = now;
      since = Date.now();
    } else if (Date.now() - since >= ms) return;
  }
};

const callRun = async (env: Env, sdk: Sdk, mode: Mode): Promise<CallRun> => {
  const blank = await env.context.newPage();
  await blank.goto(`${env.pageUrl}?sdk=none`).catch(() => {});
  await clearStorage(env, blank);
  await blank.close();
  const tag = newTag(`call-${mode}`);
  const page = await openPeer(env, sdk, tag);
  // Let start-up work settle (Ferry's session start, Sentry's and Datadog's init) before measuring.
  await wireIdle(env.backends[sdk].bytes, 1000);
  const cdp = await env.context.newCDPSession(page);
  await cdp.send('Performance.enable', { timeDomain: 'threadTicks' });
  const before = await taskMs(cdp);
  const r = await page.evaluate(
    async ([mode, n]) => {
      const w = window as unknown as PeerWindow;
      // Start in an ordinary task, not the one that runs the CDP evaluation.
      await new Promise((res) => setTimeout(res, 0));
      w.longTasks.length = 0;
      const t0 = performance.now();
      w.Peer.run(mode, 0, n, w.gen);
      const callMs = performance.now() - t0;
      // The same messages built without any SDK call: subtracted, so the figure is the SDK's alone.
      const r0 = performance.now();
      let keep = 0;
      for (let i = 0; i < n; i++) keep += (w.gen(i + n) as { text: string }).text.length;
      const refMs = performance.now() - r0;
      await w.Peer.quiet();
      return { callMs, refMs, keep };
    },
    [mode, CALLS] as const,
  );
  // Datadog has no flush: its batches leave by themselves; quiet is when the wire has been idle 1 s.
  await wireIdle(env.backends[sdk].bytes, 1000);
  const after = await taskMs(cdp);
  const lt = await page.evaluate(() => (window as unknown as PeerWindow).longTasks.slice());
  await cdp.detach();
  await page.close();
  const callMs = Math.max(0, r.callMs - r.refMs);
  // The idle wait adds no main-thread work of its own; the reference loop's time is taken out.
  const mainMs = Math.max(0, after - before - r.refMs);
  return { callUsPerMsg: (callMs * 1000) / CALLS, mainUsPerMsg: (mainMs * 1000) / CALLS, longTasks: lt.length, longTaskMs: lt.reduce((a, b) => a + b, 0) };
};

/** setOffline walks every page; one that is closing at that moment makes it throw: try again. */
const setOffline = async (context: BrowserContext, offline: boolean): Promise<void> => {
  for (let i = 0; ; i++) {
    try {
      await context.setOffline(offline);
      return;
    } catch (e) {
      if (i >= 10) throw e;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
};

type Ending = 'online' | 'offline-close' | 'offline-crash';

/**
 * Logs N messages, then: `online`, closes the tab once the wire is idle; `offline-close`, goes offline and closes it;
 * `offline-crash`, goes offline and crashes it (CDP Page.crash). Then, online, opens the page
 * again, and waits until the backend has every message of the run or nothing new for STABLE_MS
 * (and at least DELIVERY_MIN_MS).
 */
const deliveryRun = async (env: Env, sdk: Sdk, ending: Ending): Promise<DeliveryRun> => {
  const blank = await env.context.newPage();
  await blank.goto(`${env.pageUrl}?sdk=none`).catch(() => {});
  await clearStorage(env, blank);
  await blank.close();
  const tag = newTag(`${sdk}-${ending}`);
  const b = env.backends[sdk];
  const up0 = b.bytes.up;
  const down0 = b.bytes.down;
  const served0 = env.served.length;
  const page = await openPeer(env, sdk, tag);
  await page.evaluate(
    async ([mode, n]) => {
      const w = window as unknown as PeerWindow;
      w.Peer.run(mode, 0, n, w.gen);
      // The app carries on; the SDK writes or sends as it does in a real page.
      await new Promise((r) => setTimeout(r, 0));
    },
    [sdk === 'ferry' ? 'ferry' : sdk === 'sentry' ? 'captureMessage' : 'logger.info', N] as const,
  );
  // Online, each SDK gets the time to send what it will (the wire idle for 2 s) before the tab
  // closes: this run gives the wire bytes. Offline, the tab goes at once, as in the run.
  if (ending === 'online') await wireIdle(b.bytes, 2000);
  else await setOffline(env.context, true);
  const scripts = new Set(env.served.slice(served0).filter((f) => f.endsWith('.js')));
  const scriptGzip = [...scripts].reduce((a, f) => a + gz(readFileSync(f)), 0);
  if (ending === 'offline-crash') {
    const crashed = new Promise<void>((r) => page.once('crash', () => r()));
    const cdp = await env.context.newCDPSession(page);
    void cdp.send('Page.crash').catch(() => {});
    await crashed;
    await page.close().catch(() => {});
  } else {
    await page.close({ runBeforeUnload: true });
  }
  await setOffline(env.context, false);
  const again = await openPeer(env, sdk, tag);
  const reopened = Date.now();
  const deadline = reopened + DELIVERY_MAX_MS;
  let last = -1;
  let since = Date.now();
  for (;;) {
    const n = await b.count(tag);
    if (n !== last) {
      last = n;
      since = Date.now();
    }
    if (n >= N || (Date.now() - reopened > DELIVERY_MIN_MS && Date.now() - since > STABLE_MS) || Date.now() > deadline) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  await again.close();
  return { received: last, upBytes: b.bytes.up - up0, downBytes: b.bytes.down - down0, scriptGzip };
};

// ---------- statistics and tables ----------

interface Stat {
  median: number;
  min: number;
  max: number;
}
const stat = (xs: number[]): Stat => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
  return { median: mid, min: s[0]!, max: s[s.length - 1]! };
};
const fmt = (x: number, digits = 2): string => (Math.abs(x) >= 100 ? x.toFixed(0) : x.toFixed(digits));
const show = (s: Stat, digits = 2): string => `${fmt(s.median, digits)} (${fmt(s.min, digits)}–${fmt(s.max, digits)})`;
const ratio = (a: number, b: number): string => (b === 0 ? (a === 0 ? '1' : '∞') : `${(a / b).toPrecision(2)}×`);

const table = (head: string[], rows: string[][]): string => {
  const w = head.map((_, i) => Math.max(head[i]!.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) => `| ${r.map((c, i) => c.padEnd(w[i]!)).join(' | ')} |`;
  return [line(head), `|${w.map((x) => '-'.repeat(x + 2)).join('|')}|`, ...rows.map(line)].join('\n');
};

export default async function peers(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'ferry-peers-'));
  const outDir = join(work, 'out');
  mkdirSync(outDir);
  copyFileSync(join(ROOT, 'bench/peers/page.html'), join(work, 'page.html'));
  const sizes = await bundle(outDir);

  const collector: TestCollector = await startTestCollector({
    listen: true,
    over: { products: { bench: { policy: 'all', keys: [{ key: KEYS.all, origins: ['*'] }] } } },
  });
  const sentry = await fakeBackend(sentryMessages);
  const datadog = await fakeBackend(datadogMessages);
  const proxies = {
    ferry: await startProxy({ port: Number(new URL(collector.collector.url).port) }, 'raw'),
    sentry: await startProxy({ port: Number(new URL(sentry.url).port) }, 'raw'),
    datadog: await startProxy({ port: Number(new URL(datadog.url).port) }, 'raw'),
  };
  const ferryCount = async (tag: string): Promise<number> => {
    const list = await collector.collector.store.listSessions({ product: 'bench', application: tag, limit: 100 });
    return list.sessions.reduce((a, s) => a + (s.detail?.messageCount ?? 0), 0);
  };
  const served: string[] = [];
  const statics = await startStaticServer(work, { served: (f) => served.push(f) });
  const browser = await launchPersistent();
  const env: Env = {
    context: browser.context,
    pageUrl: `${statics.url}/page.html`,
    served,
    backends: {
      ferry: { url: proxies.ferry.url, count: ferryCount, bytes: proxies.ferry.bytes },
      sentry: { url: proxies.sentry.url, count: async (t) => sentry.received.get(t) ?? 0, bytes: proxies.sentry.bytes },
      datadog: { url: proxies.datadog.url, count: async (t) => datadog.received.get(t) ?? 0, bytes: proxies.datadog.bytes },
    },
  };

  const calls = new Map<Mode, CallRun[]>();
  const deliveries = new Map<string, DeliveryRun[]>();
  try {
    for (let rep = 0; rep < REPS; rep++) {
      for (const { sdk, mode } of CALL_MODES) {
        const r = await callRun(env, sdk, mode);
        calls.set(mode, [...(calls.get(mode) ?? []), r]);
      }
      for (const ending of ['online', 'offline-close', 'offline-crash'] as const)
        for (const sdk of ['ferry', 'sentry', 'datadog'] as const) {
          const r = await deliveryRun(env, sdk, ending);
          deliveries.set(`${sdk} ${ending}`, [...(deliveries.get(`${sdk} ${ending}`) ?? []), r]);
        }
      console.log(`repetition ${rep + 1}/${REPS} done`);
    }
  } finally {
    await browser.dispose();
    await statics.close();
    for (const p of Object.values(proxies)) await p.close();
    await sentry.close();
    await datadog.close();
    await collector.close();
    rmSync(work, { recursive: true, force: true });
  }

  // ----- report -----
  const c = (mode: Mode, k: keyof CallRun) => stat((calls.get(mode) ?? []).map((r) => r[k]));
  const ferryCall = c('ferry', 'callUsPerMsg').median;
  const ferryMain = c('ferry', 'mainUsPerMsg').median;
  const callRows = CALL_MODES.map(({ mode }) => [
    mode === 'ferry'
      ? 'Ferry log.information'
      : mode === 'captureMessage'
        ? 'Sentry captureMessage'
        : mode === 'breadcrumb'
          ? 'Sentry addBreadcrumb'
          : 'Datadog logger.info',
    show(c(mode, 'callUsPerMsg')),
    ratio(ferryCall, c(mode, 'callUsPerMsg').median),
    show(c(mode, 'mainUsPerMsg')),
    ratio(ferryMain, c(mode, 'mainUsPerMsg').median),
    show(c(mode, 'longTasks'), 0),
    show(c(mode, 'longTaskMs'), 0),
  ]);
  console.log(
    `\nPeers: ${CALLS.toLocaleString('en')} calls per call-site run, ${N.toLocaleString('en')} messages per delivery run, ${REPS} interleaved repetitions, medians (min–max); ${cpus().length} cores, load ${loadavg()[0]!.toFixed(2)}`,
  );
  console.log('\nMain-thread cost per message (µs; the same messages built without an SDK call are subtracted)');
  console.log(table(['call', 'call site µs', 'Ferry/peer', 'main thread until quiet µs', 'Ferry/peer', 'long tasks', 'long-task ms'], callRows));

  const d = (sdk: Sdk, e: Ending) => deliveries.get(`${sdk} ${e}`) ?? [];
  // What a page that logs and sends actually fetched (the online runs): lazy parts it needed count here.
  const fetched = (sdk: Sdk) => stat(d(sdk, 'online').map((r) => r.scriptGzip)).median;
  const bundleRows = (['ferry', 'sentry', 'datadog'] as const).map((sdk) => [
    sdk,
    String(sizes[sdk].startup.raw),
    String(sizes[sdk].startup.gzip),
    ratio(sizes.ferry.startup.gzip, sizes[sdk].startup.gzip),
    `${sizes[sdk].later.gzip} (${sizes[sdk].later.files.join(', ') || 'nothing'})`,
    String(fetched(sdk)),
    ratio(fetched('ferry'), fetched(sdk)),
  ]);
  console.log('\nBundle (esbuild bundle+minify, ESM, splitting, es2020; gzip -9 per file)');
  console.log(
    table(['SDK', 'start-up bytes', 'start-up gzip', 'Ferry/peer', 'loaded later, gzip', 'script a sending page fetched, gzip', 'Ferry/peer'], bundleRows),
  );

  const deliveryRows: string[][] = [];
  for (const e of ['online', 'offline-close', 'offline-crash'] as const)
    for (const sdk of ['ferry', 'sentry', 'datadog'] as const) {
      const rs = d(sdk, e);
      const rec = stat(rs.map((r) => r.received));
      const up = stat(rs.map((r) => r.upBytes));
      const perMsg = stat(rs.map((r) => (r.received ? r.upBytes / r.received : 0)));
      const ferryRec = stat(d('ferry', e).map((r) => r.received)).median;
      deliveryRows.push([
        e,
        sdk,
        show(rec, 0),
        `${((rec.median / N) * 100).toFixed(1)} %`,
        ratio(ferryRec, rec.median),
        show({ median: up.median / 1024, min: up.min / 1024, max: up.max / 1024 }, 0),
        fmt((perMsg.median * 10_000) / 1024, 0),
      ]);
    }
  console.log(
    `\nDelivery and wire bytes: log ${N.toLocaleString('en')}, then close the tab (online), or go offline and close it, or go offline and crash it; reopen online`,
  );
  console.log(table(['ending', 'SDK', 'received', 'share', 'Ferry/peer', 'sent KiB (headers+bodies)', 'KiB per 10k delivered'], deliveryRows));

  const onlinePer10k = (sdk: Sdk) => {
    const rs = d(sdk, 'online');
    return stat(rs.map((r) => (r.received ? (r.upBytes / r.received) * 10_000 : 0))).median;
  };
  const checks = [
    [
      'call site ≤ Sentry addBreadcrumb',
      ferryCall <= c('breadcrumb', 'callUsPerMsg').median * TARGETS.callVsBreadcrumb,
      ratio(ferryCall, c('breadcrumb', 'callUsPerMsg').median),
    ],
    [
      'main thread per message ≤ 0.05× Datadog logger.info',
      ferryMain <= c('logger.info', 'mainUsPerMsg').median * TARGETS.mainVsDatadog,
      ratio(ferryMain, c('logger.info', 'mainUsPerMsg').median),
    ],
    [
      'start-up bundle ≤ 0.5× Datadog logs',
      sizes.ferry.startup.gzip <= sizes.datadog.startup.gzip * TARGETS.bundleVsDatadog,
      ratio(sizes.ferry.startup.gzip, sizes.datadog.startup.gzip),
    ],
    ...(['offline-close', 'offline-crash'] as const).map((e) => {
      const min = Math.min(...d('ferry', e).map((r) => r.received));
      return [`delivery 100 % (${e}, every run)`, min >= N * TARGETS.delivery, `${min}/${N}`] as const;
    }),
  ] as const;
  console.log('\nTargets (issue 13)');
  console.log(
    table(
      ['target', 'met', 'figure'],
      checks.map(([n, ok, v]) => [n, ok ? 'yes' : 'NO', String(v)]),
    ),
  );

  mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
  writeFileSync(
    join(ROOT, 'bench/results/peers.json'),
    `${JSON.stringify(
      {
        at: new Date().toISOString(),
        messagesPerDeliveryRun: N,
        callsPerCallRun: CALLS,
        repetitions: REPS,
        machine: { cores: cpus().length, load: loadavg() },
        setups: {
          ferry: 'init({ server: { autoSendSessions: true } }), no service worker; quiet = flush() resolved',
          sentry:
            'init({ transport: makeBrowserOfflineTransport(makeFetchTransport), transportOptions: { flushAtStartup: true } }) (queue of 30, the default); quiet = Sentry.flush(10000)',
          datadog: 'datadogLogs.init({ proxy, sessionSampleRate: 100, forwardErrorsToLogs: false }); quiet = 1 s without traffic',
        },
        calls: Object.fromEntries([...calls].map(([m, rs]) => [m, rs])),
        bundles: sizes,
        scriptFetchedBySendingPage: { ferry: fetched('ferry'), sentry: fetched('sentry'), datadog: fetched('datadog') },
        deliveries: Object.fromEntries(deliveries),
        wirePer10kDelivered: { ferry: onlinePer10k('ferry'), sentry: onlinePer10k('sentry'), datadog: onlinePer10k('datadog') },
        targets: checks.map(([n, ok, v]) => ({ target: n, met: ok, figure: v })),
      },
      null,
      2,
    )}\n`,
  );
  console.log('\nwritten to bench/results/peers.json');
}
