// ferry-worker.js in real Chromium, through its comlink API: detail blobs into the outbox, both
// compression engines, damaged IndexedDB records, unreadable packages, cancel, and the same
// module running inside a service worker.

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import type { LogMessage } from '../../src/shared/message.js';
import type { CompressionEngine, FerryWorkerApi } from '../../src/shared/worker-protocol.js';
import { useBrowserAndServer } from '../support/e2e.js';
import { openPackagerPage } from './packager-page.js';

const e2e = useBrowserAndServer();

const ENGINES: CompressionEngine[] = [{ kind: 'native' }, { kind: 'fflate', level: 1 }, { kind: 'fflate', level: 6 }];

test('compressSession writes the gzip NDJSON and its SHA-256 to the outbox, with either engine', async () => {
  const context = await e2e.browser.newContext();
  const page = await openPackagerPage(context, e2e.server.url);
  const r = await page.evaluate(async (engines) => {
    const { Fx } = PW();
    const [s] = await Fx.seed('detail', [{ severities: Array.from({ length: 2500 }, (_, i) => (i % 9 === 0 ? 'error' : 'information')), chunkSize: 1000 }]);
    const db = await Fx.open('detail');
    const chunks = await new Promise<{ text: string }[]>((resolve) => {
      const req = db.transaction('chunks').objectStore('chunks').getAll();
      req.onsuccess = () => resolve(req.result);
    });
    db.close();
    const out = [];
    for (const engine of engines) {
      const c = await Fx.api().compressSession('detail', s.id, engine);
      const stored = (await Fx.outbox('detail', s.id))!;
      out.push({
        engine: c.engine,
        sha256: c.sha256,
        size: c.size,
        rawBytes: c.rawBytes,
        lastSeq: c.lastSeq,
        problems: c.problems,
        stored: { sha256: stored.sha256, size: stored.size, offset: stored.offset, blob: await Fx.blobToBase64(stored.blob) },
      });
    }
    return { out, ndjson: chunks.map((c) => c.text).join('') };
  }, ENGINES);
  for (const [i, c] of r.out.entries()) {
    const gz = Buffer.from(c.stored.blob, 'base64');
    assert.deepEqual(c.engine, ENGINES[i]);
    assert.equal(gunzipSync(gz).toString(), r.ndjson);
    assert.equal(c.sha256, createHash('sha256').update(gz).digest('hex'));
    assert.equal(c.stored.sha256, c.sha256);
    assert.equal(c.stored.size, gz.length);
    assert.equal(c.size, gz.length);
    assert.equal(c.stored.offset, 0);
    assert.equal(c.rawBytes, Buffer.byteLength(r.ndjson));
    assert.equal(c.lastSeq, 2500);
    assert.deepEqual(c.problems, []);
  }
  await context.close();
});

test('packages from every engine read back to the same messages with either reader', async () => {
  const context = await e2e.browser.newContext();
  const page = await openPackagerPage(context, e2e.server.url);
  const r = await page.evaluate(async (engines) => {
    const { Fx } = PW();
    const seeded = await Fx.seed('engines', [
      { severities: ['critical', 'error', 'warning', 'information', 'verbose', 'information', 'information'], chunkSize: 2 },
      { status: 'crashed', application: 'other', severities: ['warning'] },
    ]);
    const ids = seeded.map((s) => s.id);
    const results: { engine: CompressionEngine; reader: CompressionEngine; size: number; rawBytes: number; messages: LogMessage[][] }[] = [];
    for (const engine of engines) {
      const pkg = await Fx.api().buildPackage({
        product: 'engines',
        criteria: ['completed'],
        jobId: `j-${results.length}`,
        created: Date.now(),
        creator: { agentVersion: '0.1.0', userAgent: 'test' },
        engine,
      });
      for (const reader of engines.slice(0, 2)) {
        const contents = await Fx.api().readPackage(pkg.blob, { messagesOf: ids, engine: reader });
        results.push({ engine: pkg.engine, reader, size: pkg.blob.size, rawBytes: pkg.rawBytes, messages: ids.map((id) => contents.messages[id]) });
      }
    }
    return results;
  }, ENGINES);
  assert.equal(r.length, 6);
  for (const x of r) assert.deepEqual(x.messages, r[0].messages, `${JSON.stringify(x.engine)} read by ${JSON.stringify(x.reader)}`);
  assert.deepEqual(
    r[0].messages.map((m) => m.length),
    [7, 1],
  );
  assert.deepEqual(
    r[0].messages[0].map((m) => m.seq),
    [1, 2, 3, 4, 5, 6, 7],
  );
  await context.close();
});

test('corrupt IndexedDB records: the package still builds, the bad chunks are listed in the manifest, nothing throws into the page', async () => {
  const context = await e2e.browser.newContext();
  const page = await openPackagerPage(context, e2e.server.url);
  const pageErrors: string[] = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  const r = await page.evaluate(async () => {
    const { Ferry, Fx } = PW();
    const [s] = await Fx.seed('corrupt', [{ status: 'crashed', severities: ['error', 'information', 'information', 'warning'], chunkSize: 2 }]);
    const good = Fx.lines(s.id, 10, ['information', 'information']);
    await Fx.putChunks('corrupt', [
      { sessionId: s.id, seq: 5, lastSeq: 5, count: 1, text: 12345 },
      { sessionId: s.id, seq: 6, lastSeq: 6, count: 1, text: new Blob(['{"not":"text"}\n']) },
      { sessionId: s.id, seq: 7, lastSeq: 7, count: 1, text: '\u0000\u0001garbage that is not NDJSON\n' },
      { sessionId: s.id, seq: 8, lastSeq: 9, count: 2, text: Fx.lines(s.id, 8, ['error', 'error']).slice(0, -20) },
      { sessionId: s.id, seq: 10, lastSeq: 11, count: 2, text: good },
    ]);
    Ferry.init({ product: 'corrupt', application: 'editor', version: '1' });
    await Ferry.ready();
    const res = await Ferry.packager.send({ criteria: ['crashed'], destination: 'blob' });
    const contents = await Fx.api().readPackage(res.blob!, { messagesOf: [s.id] });
    const detail = await Fx.api().compressSession('corrupt', s.id);
    return {
      id: s.id,
      status: res.status,
      problems: res.problems,
      manifestProblems: contents.manifest.problems,
      seqs: contents.messages[s.id].map((m) => m.seq),
      detailProblems: detail.problems.map((p) => p.chunkSeq),
      marked: res.marked,
    };
  });
  assert.equal(r.status, 'sent');
  assert.deepEqual(
    r.problems.map((p) => [p.sessionId === r.id, p.chunkSeq, p.reason]),
    [
      [true, 5, 'its text is number, not a string'],
      [true, 6, 'its text is object, not a string'],
      [true, 7, 'its first line is not JSON'],
      [true, 8, 'its text does not end with a newline (cut short)'],
    ],
  );
  assert.deepEqual(r.manifestProblems, r.problems);
  assert.deepEqual(r.seqs, [1, 2, 3, 4, 10, 11]);
  assert.deepEqual(r.detailProblems, [5, 6, 7, 8]);
  // Packaged despite the problems: the good part was delivered, so it counts as packaged.
  assert.deepEqual(r.marked, [r.id]);
  assert.deepEqual(pageErrors, []);
  await context.close();
});

test('readPackage refuses a truncated, non-zip or foreign zip with a clear PackageReadError', async () => {
  const context = await e2e.browser.newContext();
  const page = await openPackagerPage(context, e2e.server.url);
  const r = await page.evaluate(async () => {
    const { Fx } = PW();
    await Fx.seed('bad', [{ severities: ['information', 'error'] }]);
    const pkg = await Fx.api().buildPackage({
      product: 'bad',
      criteria: ['completed'],
      jobId: 'b',
      created: Date.now(),
      creator: { agentVersion: '0.1.0', userAgent: 'test' },
    });
    const bytes = new Uint8Array(await pkg.blob.arrayBuffer());
    const flipped = bytes.slice();
    flipped[120] ^= 0x55;
    // A zip without a manifest: the directory alone, from a package cut after its first entry.
    const attempts: [string, Blob][] = [
      ['truncated', new Blob([bytes.subarray(0, bytes.length - 40)])],
      ['half', new Blob([bytes.subarray(0, bytes.length >> 1)])],
      ['text', new Blob(['PK? no, just some text that happens to be long enough'])],
      ['empty', new Blob([])],
      ['damaged', new Blob([flipped])],
    ];
    const out: Record<string, string> = {};
    for (const [name, blob] of attempts) {
      out[name] = await Fx.api()
        .readPackage(blob)
        .then(
          () => 'opened',
          (e: Error) => `${e.name}: ${e.message}`,
        );
    }
    return out;
  });
  assert.match(r.truncated, /^PackageReadError: the zip file is truncated/);
  assert.match(r.half, /^PackageReadError: the zip file is truncated/);
  assert.match(r.text, /^PackageReadError: not a zip file/);
  assert.match(r.empty, /^PackageReadError: not a zip file/);
  assert.match(r.damaged, /^PackageReadError: entry sessions\/.*\.ndjson is damaged .*corrupt or truncated/);
  await context.close();
});

test('cancel stops a package being built in the worker', async () => {
  const context = await e2e.browser.newContext();
  const page = await openPackagerPage(context, e2e.server.url);
  const r = await page.evaluate(async () => {
    const { Fx } = PW();
    await Fx.seedLarge('cancel', 12);
    const api = Fx.api();
    let reports = 0;
    const started = performance.now();
    const outcome = await api
      .buildPackage(
        { product: 'cancel', criteria: ['completed'], jobId: 'big', created: Date.now(), creator: { agentVersion: '0.1.0', userAgent: 'test' } },
        Fx.Comlink.proxy((p: { bytesDone: number }) => {
          reports++;
          if (p.bytesDone > 0) void api.cancel('big');
        }),
      )
      .then(
        () => 'built',
        (e: Error) => e.name,
      );
    return { outcome, reports, ms: performance.now() - started };
  });
  assert.equal(r.outcome, 'AbortError');
  assert.ok(r.reports >= 1);
  await context.close();
});

test('the packaging module runs inside a service worker (no DOM, no window-only API)', async () => {
  const context = await e2e.browser.newContext();
  const page = await openPackagerPage(context, e2e.server.url);
  const r = await page.evaluate(async () => {
    const { Fx } = PW();
    const [s] = await Fx.seed('sw', [{ status: 'crashed', severities: ['error', 'information', 'verbose'] }]);
    const reg = await navigator.serviceWorker.register('/dist/ferry-worker.js', { type: 'module', scope: '/dist/' });
    const sw = reg.installing ?? reg.waiting ?? reg.active!;
    if (sw.state !== 'activated') await new Promise<void>((resolve) => sw.addEventListener('statechange', () => sw.state === 'activated' && resolve()));
    const { port1, port2 } = new MessageChannel();
    sw.postMessage({ type: 'ferry-connect' }, [port2]);
    const api = Fx.Comlink.wrap<FerryWorkerApi>(port1);
    const selected = await api.selectSessions({ product: 'sw', criteria: ['crashed'] });
    const pkg = await api.buildPackage({
      product: 'sw',
      criteria: ['crashed'],
      jobId: 'sw',
      created: Date.now(),
      creator: { agentVersion: '0.1.0', userAgent: 'test' },
    });
    const detail = await api.compressSession('sw', s.id);
    const contents = await api.readPackage(pkg.blob, { messagesOf: [s.id] });
    await reg.unregister();
    return { selected: selected.map((x) => x.id), id: s.id, count: contents.messages[s.id].length, detailSize: detail.size, engine: pkg.engine };
  });
  assert.deepEqual(r.selected, [r.id]);
  assert.equal(r.count, 3);
  assert.ok(r.detailSize > 20);
  assert.deepEqual(r.engine, { kind: 'native' });
  await context.close();
});
