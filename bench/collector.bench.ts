// Collector benchmark (issue 3): summaries accepted per second (autocannon, concurrent
// connections) and detail MB/s ingested through tus (concurrent Node clients), on loopback,
// for the embedded store (SQLite) and the production store (PostgreSQL). The collector runs as
// its own process, as in production; the load runs in this one. Bounded: about 10 s per store
// for summaries and a fixed number of uploads. Detail ingest runs twice per store, with and
// without the triage indexing (exception groups + search entries, src/server/triage/), so its
// cost is read side by side: replies do not wait for the index (it runs in the background), so
// the indexed rows also say how long until every uploaded message was searchable.

import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { strToU8, zipSync } from 'fflate';
import { encodeMessages, type LogMessage } from '../src/shared/message.js';
import { MANIFEST_ENTRY, PACKAGE_FORMAT, PACKAGE_FORMAT_VERSION, sessionEntryName } from '../src/shared/package-format.js';
import { type GroupListReply, PATHS, type SummariesReply, TUS } from '../src/shared/protocol.js';
import { SEVERITIES } from '../src/shared/severity.js';
import type { SessionSummary } from '../src/shared/summary.js';
import { startHaproxy } from '../tests/support/haproxy.js';
import { startPostgres } from '../tests/support/postgres.js';
import { startS3 } from '../tests/support/s3.js';
import { makeSummary, sha256 } from '../tests/unit/server/fixtures.js';
import { tusMetadata } from '../tests/unit/server/harness.js';
import { spawnCollector } from '../tests/unit/server/spawn.js';

const SUMMARY_SECONDS = 8;
const SUMMARY_CONNECTIONS = 16;
const SUMMARIES_PER_REQUEST = 50;
const UPLOADS = 48;
const UPLOAD_CLIENTS = 4;
const MESSAGES_PER_SESSION = 10_000;
const CHUNK = 256 * 1024;
const KEY = 'bench-key-0001';
const ADMIN = 'bench-admin-token-0001';

// autocannon ships no types; this is the part of its API used here.
interface AutocannonResult {
  requests: { average: number; total: number };
  latency: { p50: number; p99: number };
  non2xx: number;
  errors: number;
  '2xx': number;
  duration: number;
}
type Autocannon = (opts: Record<string, unknown>) => Promise<AutocannonResult>;
const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;

const WORDS = ['user', 'order', 'cart', 'payment', 'search', 'render', 'fetch', 'cache', 'retry', 'timeout', 'click', 'scroll'];
/** Log lines that look like an app's: varied words and numbers, so they compress as real logs do (~8–10×). */
const sessionMessages = (sessionId: string, n: number): LogMessage[] => {
  let seed = 1;
  const rnd = (k: number): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % k;
  return Array.from({ length: n }, (_, i) => ({
    sessionId,
    seq: i + 1,
    time: 1_760_000_000_000 + i * 37,
    severity: i % 500 === 0 ? 'error' : SEVERITIES[2 + rnd(3)],
    category: WORDS[rnd(WORDS.length)],
    text: `${WORDS[rnd(12)]} ${WORDS[rnd(12)]} id=${rnd(100000)} took ${rnd(900)} ms (${WORDS[rnd(12)]}: ${rnd(2) ? 'ok' : 'miss'}) /api/${WORDS[rnd(12)]}/${rnd(5000)}`,
    details: { route: `/api/${WORDS[rnd(12)]}`, status: rnd(2) ? 200 : 404, ms: rnd(900) },
    ...(i % 500 === 0
      ? {
          exception: {
            name: 'TypeError',
            message: `Cannot read properties of undefined (reading '${WORDS[rnd(12)]}') id=${rnd(100000)}`,
            stack: `TypeError: x\n    at ${WORDS[rnd(12)]} (https://app.example.com/assets/app.3f9a1c2b.js:10:${rnd(90)})\n    at main (https://app.example.com/assets/app.3f9a1c2b.js:1:1)`,
          },
        }
      : {}),
  }));
};

const percentile = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? 0;
};

interface Row {
  store: string;
  indexing: string;
  'summaries/s': number;
  'summary req p99 ms': number;
  'uploads/s': number;
  'detail MB/s (gzip)': number;
  'detail MB/s (NDJSON)': number;
  'messages/s': number;
  'upload p95 ms': number;
  'indexed messages/s': number | string;
}

const auth = { authorization: `Ferry ${KEY}` };

const benchSummaries = async (url: string, seconds = SUMMARY_SECONDS): Promise<{ perSecond: number; p99: number }> => {
  const bodies = Array.from({ length: 400 }, () =>
    JSON.stringify({ product: 'bench', sentAt: Date.now(), sessions: Array.from({ length: SUMMARIES_PER_REQUEST }, () => makeSummary({ product: 'bench' })) }),
  );
  let i = 0;
  const r = await autocannon({
    url: `${url}${PATHS.summaries}`,
    connections: SUMMARY_CONNECTIONS,
    duration: seconds,
    requests: [
      {
        method: 'POST',
        headers: { ...auth, 'content-type': 'application/json' },
        setupRequest: (req: Record<string, unknown>) => ({ ...req, body: bodies[i++ % bodies.length] }),
      },
    ],
  });
  if (r.non2xx || r.errors) throw new Error(`summaries bench: ${r.non2xx} non-2xx, ${r.errors} errors`);
  return { perSecond: (r['2xx'] * SUMMARIES_PER_REQUEST) / r.duration, p99: r.latency.p99 };
};

const benchUploads = async (url: string, count = UPLOADS) => {
  const sessions = Array.from({ length: count }, () => {
    const summary = makeSummary({ product: 'bench' });
    const ndjson = encodeMessages(sessionMessages(summary.id, MESSAGES_PER_SESSION));
    const gz = gzipSync(ndjson);
    return { summary, gz, sha: sha256(gz), ndjsonBytes: Buffer.byteLength(ndjson) };
  });
  const post = await fetch(`${url}${PATHS.summaries}`, {
    method: 'POST',
    headers: { ...auth, 'content-type': 'application/json' },
    body: JSON.stringify({ product: 'bench', sentAt: Date.now(), sessions: sessions.map((s) => s.summary) }),
  });
  const reply = (await post.json()) as SummariesReply;
  if (!reply.sessions.every((x) => x.detail === 'wanted')) throw new Error('uploads bench: detail not wanted');

  const latencies: number[] = [];
  let next = 0;
  const t0 = performance.now();
  const startedAt = Date.now();
  const client = async (): Promise<void> => {
    for (let k = next++; k < sessions.length; k = next++) {
      const s = sessions[k];
      const started = performance.now();
      const created = await fetch(`${url}${PATHS.uploads}`, {
        method: 'POST',
        headers: {
          ...auth,
          'tus-resumable': TUS.version,
          'upload-length': String(s.gz.length),
          'upload-metadata': tusMetadata({ sessionId: s.summary.id, product: 'bench', sha256: s.sha }),
        },
      });
      if (created.status !== 201) throw new Error(`create: ${created.status} ${await created.text()}`);
      const loc = created.headers.get('location')!;
      for (let off = 0; off < s.gz.length; off += CHUNK) {
        const res = await fetch(loc, {
          method: 'PATCH',
          headers: { ...auth, 'tus-resumable': TUS.version, 'upload-offset': String(off), 'content-type': TUS.contentType },
          body: s.gz.subarray(off, off + CHUNK),
        });
        if (res.status !== 204) throw new Error(`patch: ${res.status} ${await res.text()}`);
      }
      latencies.push(performance.now() - started);
    }
  };
  await Promise.all(Array.from({ length: UPLOAD_CLIENTS }, client));
  const seconds = (performance.now() - t0) / 1000;
  const gzBytes = sessions.reduce((n, s) => n + s.gz.length, 0);
  const rawBytes = sessions.reduce((n, s) => n + s.ndjsonBytes, 0);
  return {
    startedAt,
    perSecond: count / seconds,
    gzMBps: gzBytes / 1e6 / seconds,
    rawMBps: rawBytes / 1e6 / seconds,
    messagesPerSecond: (count * MESSAGES_PER_SESSION) / seconds,
    p95: percentile(latencies, 95),
    avgGzKB: gzBytes / count / 1024,
    ratio: rawBytes / gzBytes,
  };
};

/**
 * Polls the groups until every exception of `sessions` uploaded sessions is counted (each has one
 * every 500 messages); returns the time (epoch ms) it saw that.
 */
const untilIndexed = async (url: string, sessions: number): Promise<number> => {
  const want = sessions * (MESSAGES_PER_SESSION / 500);
  const deadline = Date.now() + 600_000;
  for (;;) {
    const res = await fetch(`${url}/api/v1/admin/groups?product=bench&limit=200`, { headers: { authorization: `Bearer ${ADMIN}` } });
    const body = (await res.json()) as GroupListReply;
    if (body.groups.reduce((n, g) => n + g.hits, 0) >= want) return Date.now();
    if (Date.now() > deadline) throw new Error('the index did not catch up in 10 min');
    await new Promise((r) => setTimeout(r, 100));
  }
};

export default async function collectorBench(): Promise<void> {
  const rows: Row[] = [];
  const notes: string[] = [];
  for (const [kind, indexing] of [
    ['sqlite', true],
    ['sqlite', false],
    ['postgres', true],
    ['postgres', false],
  ] as const) {
    const dir = mkdtempSync(join(tmpdir(), 'ferry-bench-'));
    const pg = kind === 'postgres' ? await startPostgres() : undefined;
    const p = await spawnCollector(dir, {
      indexing,
      adminTokens: [ADMIN],
      log: { level: 'info', requests: false },
      rateLimit: { perMinute: 10_000_000, burst: 1_000_000 },
      products: { bench: { policy: 'all', keys: [{ key: KEY, origins: ['*'] }] } },
      ...(pg ? { store: { kind: 'postgres', url: pg.url, poolSize: 10 } } : {}),
    });
    try {
      // Warm-up (JIT, connection pools, page cache), not measured.
      await benchSummaries(p.url, 2);
      await benchUploads(p.url, 8);
      const s = await benchSummaries(p.url);
      // Let the warm-up's index finish so it does not run during the measured uploads.
      if (indexing) await untilIndexed(p.url, 8);
      const u = await benchUploads(p.url);
      const indexedPerSecond = indexing ? ((UPLOADS * MESSAGES_PER_SESSION) / ((await untilIndexed(p.url, 8 + UPLOADS)) - u.startedAt)) * 1000 : undefined;
      rows.push({
        store: kind === 'sqlite' ? 'embedded (SQLite)' : 'PostgreSQL',
        indexing: indexing ? 'groups + search' : 'off',
        'summaries/s': Math.round(s.perSecond),
        'summary req p99 ms': s.p99,
        'uploads/s': Math.round(u.perSecond * 10) / 10,
        'detail MB/s (gzip)': Math.round(u.gzMBps * 10) / 10,
        'detail MB/s (NDJSON)': Math.round(u.rawMBps * 10) / 10,
        'messages/s': Math.round(u.messagesPerSecond),
        'upload p95 ms': Math.round(u.p95),
        'indexed messages/s': indexedPerSecond === undefined ? '—' : Math.round(indexedPerSecond),
      });
      notes.push(`${kind}${indexing ? '' : ' (no indexing)'}: detail blobs averaged ${u.avgGzKB.toFixed(0)} KiB gzip (${u.ratio.toFixed(1)}× compression)`);
    } finally {
      await p.kill('SIGTERM');
      await pg?.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  }
  console.log(
    `collector on loopback, this ${(await import('node:os')).cpus().length}-core machine; summaries: ${SUMMARY_CONNECTIONS} connections × ${SUMMARIES_PER_REQUEST} summaries/request for ${SUMMARY_SECONDS} s; ` +
      `detail: ${UPLOADS} sessions × ${MESSAGES_PER_SESSION} messages, ${UPLOAD_CLIENTS} concurrent tus clients, ${CHUNK / 1024} KiB chunks`,
  );
  console.table(rows);
  for (const n of notes) console.log(n);
  await benchPackageMemory();
  await benchReplicasAndS3();
}

const PACKAGE_MIB = 60;

/** A package of about `bytes` (zip), hard to compress (random base64 text), in 4 sessions. */
const bigPackage = (bytes: number): Uint8Array => {
  const files: Record<string, Uint8Array> = {};
  const summaries = [];
  // base64 text deflates to about 3/4 of its size; a message line is ~1.1 KB.
  const perSession = Math.ceil(bytes / 0.73 / 4 / 1100);
  for (let k = 0; k < 4; k++) {
    const summary = makeSummary({ product: 'bench' });
    const lines: string[] = [];
    for (let i = 0; i < perSession; i++)
      lines.push(
        JSON.stringify({
          sessionId: summary.id,
          seq: i + 1,
          time: 1_760_000_000_000 + i,
          severity: 'information',
          category: 'bulk',
          text: randomBytes(768).toString('base64'),
        }),
      );
    const ndjson = `${lines.join('\n')}\n`;
    summaries.push({ ...summary, counts: { ...summary.counts, information: perSession }, messageCount: perSession, lastSeq: perSession });
    files[sessionEntryName(summary.id)] = strToU8(ndjson);
  }
  files[MANIFEST_ENTRY] = strToU8(JSON.stringify(benchManifest(summaries)));
  return zipSync(files, { level: 1 });
};

/** The manifest of a bench package holding `sessions`. */
const benchManifest = (sessions: readonly SessionSummary[]) => ({
  format: PACKAGE_FORMAT,
  formatVersion: PACKAGE_FORMAT_VERSION,
  product: 'bench',
  created: Date.now(),
  creator: { agentVersion: '0.1.0', userAgent: 'bench' },
  criteria: ['completed'],
  sessions,
});

/** Resident and peak resident bytes of a process (Linux /proc). */
const memoryOf = (pid: number): { rss: number; hwm: number } => {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k: string): number => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024;
  return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
};

/**
 * Peak memory of the collector process while it takes packages (issue 12): its peak RSS is reset
 * (`/proc/<pid>/clear_refs`), then one 60 MiB package is posted (raw, then as multipart), then
 * three at once; the growth is the peak minus the RSS before. Target: ≤ 1.5× the package size
 * for one package, bounded by limits.concurrentPackages for many.
 */
export const benchPackageMemory = async (): Promise<void> => {
  const copies = Array.from({ length: 3 }, () => bigPackage(PACKAGE_MIB * 1024 * 1024));
  const zip = copies[0] ?? bigPackage(PACKAGE_MIB * 1024 * 1024);
  const rows: Record<string, string | number>[] = [];
  // Each case in a fresh collector process: a heap grown by one case would hide the next one's.
  const measure = async (what: string, bytes: number, run: (post: (body: BodyInit, type?: string) => Promise<void>) => Promise<void>): Promise<void> => {
    const dir = mkdtempSync(join(tmpdir(), 'ferry-bench-mem-'));
    const p = await spawnCollector(dir, {
      adminTokens: [ADMIN],
      indexing: false,
      log: { level: 'info', requests: false },
      rateLimit: { perMinute: 10_000_000, burst: 1_000_000, bytesPerMinute: 2 ** 40, bytesBurst: 2 ** 40 },
      products: { bench: { policy: 'all', keys: [{ key: KEY, origins: ['*'] }] } },
    });
    const pid = p.child.pid ?? 0;
    /** Without a type, fetch sets it (multipart with its boundary). */
    const post = async (body: BodyInit, type?: string): Promise<void> => {
      const res = await fetch(`${p.url}${PATHS.packages}`, { method: 'POST', headers: { ...auth, ...(type ? { 'content-type': type } : {}) }, body });
      if (res.status !== 200) throw new Error(`package: ${res.status} ${await res.text()}`);
    };
    try {
      // Warm-up (the code paths, the database) with a small package, not measured.
      const small = makeSummary({ product: 'bench' });
      const manifest = benchManifest([{ ...small, counts: { ...small.counts, information: 1 }, messageCount: 1, lastSeq: 1 }]);
      const line = { sessionId: small.id, seq: 1, time: 1, severity: 'information', category: 'x', text: 'warm' };
      await post(
        zipSync({
          [MANIFEST_ENTRY]: strToU8(JSON.stringify(manifest)),
          [sessionEntryName(small.id)]: strToU8(`${JSON.stringify(line)}\n`),
        }) as Uint8Array<ArrayBuffer>,
        'application/zip',
      );
      writeFileSync(`/proc/${pid}/clear_refs`, '5');
      const before = memoryOf(pid);
      const t0 = performance.now();
      await run(post);
      const ms = performance.now() - t0;
      const after = memoryOf(pid);
      const growth = after.hwm - before.rss;
      rows.push({
        case: what,
        'package MiB': Math.round((bytes / 2 ** 20) * 10) / 10,
        'RSS before MiB': Math.round(before.rss / 2 ** 20),
        'peak RSS MiB': Math.round(after.hwm / 2 ** 20),
        'growth MiB': Math.round(growth / 2 ** 20),
        'growth / package': Math.round((growth / bytes) * 100) / 100,
        seconds: Math.round(ms / 100) / 10,
      });
    } finally {
      await p.kill('SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    }
  };
  await measure('one package, raw zip', zip.length, (post) => post(zip as Uint8Array<ArrayBuffer>, 'application/zip'));
  await measure('one package, multipart', zip.length, (post) => {
    const form = new FormData();
    form.set('package', new Blob([zip as Uint8Array<ArrayBuffer>]), 'bench.ferry.zip');
    form.set('description', 'bench');
    return post(form);
  });
  await measure(
    'three packages at once',
    copies.reduce((n, c) => n + c.length, 0),
    async (post) => {
      await Promise.all(copies.map((c) => post(c as Uint8Array<ArrayBuffer>, 'application/zip')));
    },
  );
  console.log(`collector process peak memory taking packages (${PACKAGE_MIB} MiB each, 4 sessions, deflate level 1); growth = peak RSS − RSS before`);
  console.table(rows);
};

/**
 * Issue 12: the replica setup (two collectors on PostgreSQL + S3 behind HAProxy) against one
 * replica on the same PostgreSQL + S3, and S3 blobs against local files, in one run so the
 * ratios compare like with like. Everything shares this machine's cores: the load generator,
 * s3rver (in this process), PostgreSQL, HAProxy and the replicas.
 */
export const benchReplicasAndS3 = async (): Promise<void> => {
  const SECONDS = 6;
  const COUNT = 24;
  const pg = await startPostgres();
  const s3 = await startS3('ferry-bench');
  const dir = mkdtempSync(join(tmpdir(), 'ferry-bench-replicas-'));
  const base = {
    adminTokens: [ADMIN],
    log: { level: 'info', requests: false },
    trustProxy: true,
    rateLimit: { perMinute: 10_000_000, burst: 1_000_000, keyPerMinute: 10_000_000, keyBurst: 1_000_000, bytesPerMinute: 1e12, bytesBurst: 1e12 },
    products: { bench: { policy: 'all', keys: [{ key: KEY, origins: ['*'] }] } },
    store: { kind: 'postgres', url: pg.url, poolSize: 10 },
  };
  const measure = async (url: string, setup: string) => {
    console.log(`measuring: ${setup}`);
    await benchSummaries(url, 2);
    await benchUploads(url, 4);
    return { s: await benchSummaries(url, SECONDS), u: await benchUploads(url, COUNT) };
  };
  const rows: Record<string, string | number>[] = [];
  const row = (setup: string, m: Awaited<ReturnType<typeof measure>>) => {
    rows.push({
      setup,
      'summaries/s': Math.round(m.s.perSecond),
      'summary req p99 ms': m.s.p99,
      'detail MB/s (gzip)': Math.round(m.u.gzMBps * 10) / 10,
      'uploads/s': Math.round(m.u.perSecond * 10) / 10,
      'upload p95 ms': Math.round(m.u.p95),
    });
    return m;
  };
  try {
    const spawn = (name: string, over: Record<string, unknown>) =>
      spawnCollector(mkdtempSync(join(dir, `${name}-`)), { ...base, ...over }, { listenTimeoutMs: 120_000 });
    const files = await spawn('files', {});
    const local = row('1 replica, PostgreSQL + local files', await measure(files.url, 'files').finally(() => files.kill('SIGTERM')));
    const one = await spawn('s3', { blobs: s3.config('one/') });
    const single = row('1 replica, PostgreSQL + S3', await measure(one.url, 's3').finally(() => one.kill('SIGTERM')));
    const pair = await Promise.all(['a', 'b'].map((n) => spawn(`replica-${n}`, { blobs: s3.config('pair/') })));
    const lb = await startHaproxy(pair.map((r) => Number(new URL(r.url).port)));
    const both = row(
      '2 replicas behind HAProxy, PostgreSQL + S3',
      await measure(lb.url, 'replicas').finally(async () => {
        await lb.stop();
        await Promise.all(pair.map((r) => r.kill('SIGTERM')));
      }),
    );
    console.log(
      `\nreplicas and S3 (issue 12), same machine: summaries ${SUMMARY_CONNECTIONS} connections × ${SUMMARIES_PER_REQUEST}/request for ${SECONDS} s; ` +
        `detail ${COUNT} sessions, ${UPLOAD_CLIENTS} tus clients; s3rver runs in the bench process`,
    );
    console.table(rows);
    const ratio = (a: number, b: number) => (b > 0 ? (a / b).toFixed(2) : 'n/a');
    console.log(
      `2 replicas / 1 replica (both on S3): summaries ${ratio(both.s.perSecond, single.s.perSecond)}×, detail ${ratio(both.u.gzMBps, single.u.gzMBps)}×`,
    );
    console.log(`S3 / local files (1 replica): summaries ${ratio(single.s.perSecond, local.s.perSecond)}×, detail ${ratio(single.u.gzMBps, local.u.gzMBps)}×`);
  } finally {
    await pg.stop();
    await s3.stop();
    rmSync(dir, { recursive: true, force: true });
  }
};
