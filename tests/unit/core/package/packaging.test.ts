// The DOM-free packaging core (src/worker) run in Node, whose CompressionStream, Blob and Web
// Crypto match the browser's: packages from both engines must open with our reader and with the
// collector's strict reader, and damaged input must be reported, never fatal.

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import type { CompressionEngine } from '../../../../src/core/codec/engine.js';
import type { ChunkStore } from '../../../../src/core/db/chunks.js';
import type { ChunkRecord } from '../../../../src/core/db/schema.js';
import { type BuildProgress, buildPackage } from '../../../../src/core/package/build.js';
import { gzipSession } from '../../../../src/core/package/detailBlob.js';
import { PackageReadError, readPackage } from '../../../../src/core/package/read.js';
import { readPackage as collectorReadPackage } from '../../../../src/server/package/read-package.js';
import { uuidv7 } from '../../../../src/shared/ids.js';
import { encodeMessages, type LogMessage } from '../../../../src/shared/message.js';
import { emptyCounts, type SeverityCounts } from '../../../../src/shared/severity.js';
import { emptyLoss, type SessionSummary } from '../../../../src/shared/summary.js';

const ENGINES: CompressionEngine[] = [{ kind: 'native' }, { kind: 'fflate', level: 1 }, { kind: 'fflate', level: 6 }];
const SEV = ['information', 'verbose', 'warning', 'error', 'critical'] as const;

const messages = (sessionId: string, from: number, n: number): LogMessage[] =>
  Array.from({ length: n }, (_, i) => ({
    sessionId,
    seq: from + i,
    time: 1_700_000_000_000 + from + i,
    severity: SEV[(from + i) % 5],
    category: 'Net',
    text: `request ${from + i} took ${(from + i) % 97} ms — ünïcödé`,
    ...(i % 7 === 0 ? { details: { status: 200 + (i % 3), path: `/api/${i}` } } : {}),
  }));

const countsOf = (ms: LogMessage[]): SeverityCounts => {
  const c = emptyCounts();
  for (const m of ms) c[m.severity]++;
  return c;
};

const chunk = (sessionId: string, ms: LogMessage[]): ChunkRecord => {
  const text = encodeMessages(ms);
  return { sessionId, seq: ms[0].seq, lastSeq: ms[ms.length - 1].seq, count: ms.length, counts: countsOf(ms), bytes: text.length, text };
};

const summary = (id: string, ms: LogMessage[], over: Partial<SessionSummary> = {}): SessionSummary => ({
  id,
  product: 'acme',
  application: 'editor',
  version: '1.0.0',
  status: 'ended',
  startedAt: 1_700_000_000_000,
  endedAt: 1_700_000_100_000,
  counts: countsOf(ms),
  messageCount: ms.length,
  lastSeq: ms.length ? ms[ms.length - 1].seq : 0,
  bytes: encodeMessages(ms).length,
  userAgent: 'node',
  url: 'https://app.example/',
  agentVersion: '0.1.0',
  persistence: 'indexeddb',
  dropped: emptyLoss(),
  ...over,
});

/** An in-memory ChunkStore; `broken` seqs throw when read, and poison any batch holding them. */
const memoryStore = (records: unknown[], broken = new Set<string>()): ChunkStore => {
  const rows = (records as ChunkRecord[]).slice().sort((a, b) => (a.sessionId < b.sessionId ? -1 : a.sessionId > b.sessionId ? 1 : a.seq - b.seq));
  const after = (id: string, afterSeq: number, count: number) => rows.filter((r) => r.sessionId === id && r.seq > afterSeq).slice(0, count);
  const fail = (r: ChunkRecord) => broken.has(`${r.sessionId}:${r.seq}`);
  return {
    async chunksAfter(id, afterSeq, count) {
      const got = after(id, afterSeq, count);
      if (got.some(fail)) throw new DOMException('Failed to read a record', 'DataError');
      return structuredClone(got);
    },
    chunkSeqsAfter: async (id, afterSeq, count) => after(id, afterSeq, count).map((r) => r.seq),
    async chunk(id, seq) {
      const r = rows.find((x) => x.sessionId === id && x.seq === seq);
      if (r && fail(r)) throw new DOMException('Failed to read a record', 'DataError');
      return structuredClone(r);
    },
  };
};

const build = (
  store: ChunkStore,
  sessions: { summary: SessionSummary; untilSeq?: number }[],
  engine: CompressionEngine,
  onProgress?: (p: BuildProgress) => void,
) =>
  buildPackage(store, {
    product: 'acme',
    created: Date.UTC(2026, 0, 2, 3, 4, 5),
    creator: { agentVersion: '0.1.0', userAgent: 'node', application: 'editor', version: '1.0.0' },
    criteria: ['completed'],
    description: 'it broke',
    replyTo: 'me@example.com',
    sessions,
    engine,
    onProgress,
    progressEveryMs: 0,
  });

const collect = async <T>(it: AsyncIterable<T>): Promise<T[]> => {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
};

const fixture = () => {
  const a = uuidv7();
  const b = uuidv7();
  const am = messages(a, 1, 2500);
  const bm = messages(b, 1, 3);
  const records = [chunk(a, am.slice(0, 1000)), chunk(a, am.slice(1000, 2000)), chunk(a, am.slice(2000)), chunk(b, bm)];
  return { a, b, am, bm, records, sessions: [{ summary: summary(a, am) }, { summary: summary(b, bm, { application: 'viewer', status: 'crashed' }) }] };
};

for (const engine of ENGINES) {
  const name = engine.kind === 'native' ? 'native' : `fflate-${engine.level}`;

  test(`${name}: a package reopens with the same messages, and the collector's strict reader accepts it`, async () => {
    const f = fixture();
    const progress: BuildProgress[] = [];
    const out = await build(memoryStore(f.records), f.sessions, engine, (p) => progress.push(p));
    assert.deepEqual(out.problems, []);
    assert.equal(out.rawBytes, Buffer.byteLength(encodeMessages(f.am)) + Buffer.byteLength(encodeMessages(f.bm)));
    assert.equal(progress.at(-1)!.sessionsDone, 2);
    assert.equal(progress.at(-1)!.packageBytes, out.blob.size);
    assert.ok(progress.every((p, i) => i === 0 || p.bytesDone >= progress[i - 1].bytesDone));

    for (const readEngine of [{ kind: 'native' }, { kind: 'fflate', level: 6 }] as CompressionEngine[]) {
      const pkg = await readPackage(out.blob, readEngine);
      assert.equal(pkg.manifest.product, 'acme');
      assert.equal(pkg.manifest.description, 'it broke');
      assert.deepEqual(
        pkg.manifest.sessions.map((s) => s.id),
        [f.a, f.b],
      );
      assert.equal(pkg.manifest.problems, undefined);
      assert.deepEqual(await collect(pkg.messages(f.a)), f.am);
      assert.deepEqual(await collect(pkg.messages(f.b)), f.bm);
    }

    const zip = Buffer.from(await out.blob.arrayBuffer());
    const read = await collectorReadPackage(zip, { packageEntries: 1010, decompressedBytes: 64 << 20, packageTotalBytes: 512 << 20 });
    assert.deepEqual(
      read.sessions.map((s) => [s.summary.id, s.stats.messageCount]),
      [
        [f.a, 2500],
        [f.b, 3],
      ],
    );
    const blob = read.sessions[0].blob;
    assert.ok('bytes' in blob, 'a package read from memory keeps its blobs in memory');
    assert.equal(gunzipSync(blob.bytes).toString(), encodeMessages(f.am));
  });

  test(`${name}: a detail blob is the session's NDJSON gzipped, with its SHA-256`, async () => {
    const f = fixture();
    const d = await gzipSession(memoryStore(f.records), f.a, engine);
    const gz = Buffer.from(await d.blob.arrayBuffer());
    assert.equal(gunzipSync(gz).toString(), encodeMessages(f.am));
    assert.equal(d.sha256, createHash('sha256').update(gz).digest('hex'));
    assert.equal(d.lastSeq, 2500);
    // Up to a seq: the running session frozen when packaging began.
    const part = await gzipSession(memoryStore(f.records), f.a, engine, { untilSeq: 2000 });
    assert.equal(gunzipSync(Buffer.from(await part.blob.arrayBuffer())).toString(), encodeMessages(f.am.slice(0, 2000)));
  });
}

test('bad chunks are left out and reported in the manifest; the package still builds and reads', async () => {
  const f = fixture();
  const c = f.a;
  const good = f.records.slice();
  const bad = [
    { sessionId: c, seq: 3001, lastSeq: 3001, count: 1, text: 42 },
    { sessionId: c, seq: 3002, lastSeq: 3002, count: 1, text: 'not json at all\n' },
    { sessionId: c, seq: 3003, text: encodeMessages(messages(c, 3003, 2)).slice(0, -5) },
    // Overlaps what was already taken: seqs must increase.
    { ...chunk(c, messages(c, 1500, 10)), seq: 3004 },
    { ...chunk(uuidv7(), messages('someone-else', 3005, 2)), sessionId: c, seq: 3005 },
    null,
  ].filter(Boolean);
  const tail = messages(c, 4000, 5);
  const unreadable = { ...chunk(c, messages(c, 3900, 5)), seq: 3900 };
  const store = memoryStore([...good, ...bad, unreadable, chunk(c, tail)], new Set([`${c}:3900`]));
  const out = await build(store, f.sessions, { kind: 'native' });
  assert.deepEqual(
    out.problems.map((p) => [p.chunkSeq, p.reason.split(' (')[0]]),
    [
      [3001, 'its text is number, not a string'],
      [3002, 'its first line is not JSON'],
      [3003, 'its text does not end with a newline'],
      [3004, 'its first seq 1500 does not follow 2500'],
      [3005, 'its first line belongs to another session'],
      [3900, 'the record cannot be read'],
    ],
  );
  const pkg = await readPackage(out.blob);
  assert.deepEqual(pkg.manifest.problems, out.problems);
  assert.deepEqual(await collect(pkg.messages(c)), [...f.am, ...tail]);
});

/** Where the stored data of the entry `name` lies in a zip (its local file header read as the zip spec lays it out). */
const entryData = (zip: Uint8Array, name: string): { start: number; length: number } => {
  const view = new DataView(zip.buffer, zip.byteOffset, zip.byteLength);
  for (let o = 0; o + 30 <= zip.length; ) {
    if (view.getUint32(o, true) !== 0x04034b50) break;
    const size = view.getUint32(o + 18, true);
    const nameLength = view.getUint16(o + 26, true);
    const extraLength = view.getUint16(o + 28, true);
    const start = o + 30 + nameLength + extraLength;
    if (new TextDecoder().decode(zip.subarray(o + 30, o + 30 + nameLength)) === name) return { start, length: size };
    o = start + size;
  }
  throw new Error(`no entry ${name} in the package`);
};

test('readPackage gives a clear error for a truncated, non-zip or damaged package', async () => {
  const f = fixture();
  const out = await build(memoryStore(f.records), f.sessions, { kind: 'native' });
  const bytes = new Uint8Array(await out.blob.arrayBuffer());
  await assert.rejects(readPackage(new Blob([bytes.slice(0, bytes.length - 30)])), (e: Error) => e instanceof PackageReadError && /truncated/.test(e.message));
  await assert.rejects(readPackage(new Blob(['hello, this is not a zip file at all'])), /not a zip file/);
  await assert.rejects(readPackage(new Blob([])), /not a zip file/);
  // Flip one byte in the middle of the first session's deflate data (found by its local header,
  // not a fixed offset: the ids are random, and a fixed byte could land in a header): its CRC (or
  // deflate) check fails.
  const data = entryData(bytes, `sessions/${f.a}.ndjson`);
  for (const engine of [{ kind: 'native' }, { kind: 'fflate', level: 6 }] as CompressionEngine[]) {
    const damaged = bytes.slice();
    damaged[data.start + (data.length >> 1)] ^= 0xff;
    const pkg = await readPackage(new Blob([damaged]), engine);
    await assert.rejects(collect(pkg.messages(f.a)), (e: Error) => e instanceof PackageReadError && /damaged|CRC|not JSON|UTF-8/.test(e.message));
  }
});
