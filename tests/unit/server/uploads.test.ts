import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { encodeMessages } from '../../../src/shared/message.js';
import { PATHS, TUS } from '../../../src/shared/protocol.js';
import { until } from '../../support/browser.js';
import { countsWith, makeDetail, makeMessages, makeSummary, noisyMessages, sha256 } from './fixtures.js';
import { createUpload, head, KEYS, patch, startTestCollector, type TestCollector, tusHeaders, tusMetadata, uploadAll } from './harness.js';

const LIMIT = 1024 * 1024;

describe('detail uploads (tus)', () => {
  let t: TestCollector;
  let clock = 0; // added to Date.now(): lets a test move the collector's clock past an expiry
  before(async () => {
    t = await startTestCollector({ over: { limits: { decompressedBytes: LIMIT, uploadBytes: 4 * LIMIT } }, now: () => Date.now() + clock });
  });
  after(() => t.close());

  const uploadsDir = () => join(t.dir, 'uploads');
  const filesOf = (id: string) => readdirSync(uploadsDir()).filter((f) => f.startsWith(id));

  const announce = async (over: Parameters<typeof makeSummary>[0] = {}) => {
    const s = makeSummary({ counts: countsWith({ error: 1 }), ...over });
    const reply = await t.summaries([s], { key: over.product === 'quiet' ? KEYS.none : KEYS.all, product: over.product ?? 'demo' });
    return { s, reply };
  };

  const create = async (sessionId: string, blob: { length: number }, sha: string) => {
    const res = await createUpload(t, { sessionId, length: blob.length, sha256: sha });
    assert.equal(res.status, 201, await res.clone().text());
    const url = res.headers.get('location');
    if (!url) throw new Error('no Location');
    assert.ok(url.startsWith(`http://localhost${PATHS.uploads}/`), `Location ${url}`);
    assert.ok(res.headers.get('upload-expires'), 'Upload-Expires is sent (expiration extension)');
    return url;
  };

  const errorOf = async (res: Response) => (await res.json()) as { error: string; detail: string };

  test('upload in chunks, then the session is stored and the upload reads as complete', async () => {
    const { s, reply } = await announce();
    assert.equal(reply.sessions[0].detail, 'wanted');
    const d = makeDetail(noisyMessages(s.id, 400, 600));
    assert.ok(d.gz.length > 3 * 64 * 1024, 'several chunks');
    const url = await create(s.id, d.gz, d.sha256);
    const id = url.split('/').pop()!;
    const last = await uploadAll(t, url, d.gz, 64 * 1024);
    assert.equal(last.status, 204);
    assert.equal(last.headers.get('upload-offset'), String(d.gz.length));

    const stored = await t.collector.store.getSession(s.id);
    assert.equal(stored?.detail?.sha256, d.sha256);
    assert.equal(stored?.detail?.messageCount, 400);
    assert.equal(stored?.detail?.counts.error, 40);
    assert.equal(stored?.detail?.bytes, Buffer.byteLength(d.ndjson));
    assert.deepEqual(await t.collector.store.blobs.read(d.sha256), d.gz);
    assert.deepEqual(filesOf(id), [], 'upload files are removed once stored');

    const h = await head(t, url);
    assert.equal(h.status, 200);
    assert.equal(h.headers.get('upload-offset'), String(d.gz.length));
    assert.equal(h.headers.get('upload-length'), String(d.gz.length));
    const again = await t.summaries([s]);
    assert.deepEqual(again.sessions[0], { id: s.id, detail: 'not-wanted' }, 'stored detail is not asked for again');
  });

  test('interrupted after an arbitrary chunk: HEAD and the summaries reply give the offset, and the upload resumes', async () => {
    const { s } = await announce();
    const d = makeDetail(noisyMessages(s.id, 300, 600));
    const url = await create(s.id, d.gz, d.sha256);
    const chunk = 50_000;
    const stopAfter = 2 + Math.floor(Math.random() * 2);
    let offset = 0;
    for (let i = 0; i < stopAfter; i++) {
      const r = await patch(t, url, offset, d.gz.subarray(offset, offset + chunk));
      assert.equal(r.status, 204);
      offset = Number(r.headers.get('upload-offset'));
    }
    // The client went away here. Later: HEAD says where to resume.
    const h = await head(t, url);
    assert.equal(h.status, 200);
    assert.equal(h.headers.get('upload-offset'), String(stopAfter * chunk));
    assert.equal(h.headers.get('cache-control'), 'no-store');
    // A new page load re-sends the summary and is offered the same upload.
    const reply = await t.summaries([s]);
    assert.deepEqual(reply.sessions[0].upload, { url, offset: stopAfter * chunk, sha256: d.sha256 }, 'the same upload, named by its blob');
    assert.equal(await t.collector.store.getSession(s.id).then((x) => x?.detail), undefined, 'not visible before completion');
    const last = await uploadAll(t, url, d.gz, chunk, stopAfter * chunk);
    assert.equal(last.status, 204);
    assert.equal((await t.collector.store.getSession(s.id))?.detail?.sha256, d.sha256);
  });

  test('creation-with-upload: the whole blob in the POST', async () => {
    const { s } = await announce();
    const d = makeDetail(makeMessages(s.id, 10));
    const res = await t.req(PATHS.uploads, {
      method: 'POST',
      key: KEYS.all,
      headers: tusHeaders({
        'upload-length': String(d.gz.length),
        'upload-metadata': tusMetadata({ sessionId: s.id, product: 'demo', sha256: d.sha256 }),
        'content-type': TUS.contentType,
      }),
      body: d.gz as Uint8Array<ArrayBuffer>,
    });
    assert.equal(res.status, 201);
    assert.equal(res.headers.get('upload-offset'), String(d.gz.length));
    assert.equal((await t.collector.store.getSession(s.id))?.detail?.messageCount, 10);
  });

  const refusedFinal = async (messages: string | Buffer, status: number, error: string, o: { sha?: string } = {}) => {
    const { s } = await announce();
    const gz = typeof messages === 'string' ? gzipSync(messages) : messages;
    const sha = o.sha ?? sha256(gz);
    const url = await create(s.id, gz, sha);
    const id = url.split('/').pop()!;
    const half = Math.floor(gz.length / 2);
    assert.equal((await patch(t, url, 0, gz.subarray(0, half))).status, 204);
    const res = await patch(t, url, half, gz.subarray(half));
    assert.equal(res.status, status);
    const body = await errorOf(res);
    assert.equal(body.error, error);
    // Nothing partial is stored, the upload is gone, and HEAD says so.
    assert.equal((await t.collector.store.getSession(s.id))?.detail, undefined);
    assert.deepEqual(filesOf(id), []);
    assert.equal((await head(t, url)).status, 410);
    assert.equal((await t.summaries([s])).sessions[0].upload, undefined, 'a discarded upload is not offered');
    return { s, body };
  };

  test('SHA-256 mismatch is refused', async () => {
    const { body } = await refusedFinal(encodeMessages(makeMessages('00000000-0000-7000-8000-000000000000', 1)), 400, 'sha256-mismatch', {
      sha: 'f'.repeat(64),
    });
    assert.match(body.detail, /metadata sha256 said f{64}/);
  });

  test('NDJSON lines of another session are refused', async () => {
    const other = makeMessages('019a0000-0000-7000-8000-000000000001', 3);
    const { s } = await announce();
    const lines = encodeMessages([...makeMessages(s.id, 2), ...other.map((m) => ({ ...m, seq: m.seq + 2 }))]);
    const gz = gzipSync(lines);
    const url = await create(s.id, gz, sha256(gz));
    const res = await patch(t, url, 0, gz);
    assert.equal(res.status, 400);
    const body = await errorOf(res);
    assert.equal(body.error, 'foreign-message');
    assert.match(body.detail, /line 3: belongs to session 019a0000-0000-7000-8000-000000000001/);
    assert.equal((await t.collector.store.getSession(s.id))?.detail, undefined);
  });

  test('a line that is not a message, or seq going backwards, is refused', async () => {
    await refusedFinal('{"not":"a message"}\n', 400, 'bad-ndjson');
    const { s } = await announce();
    const m = makeMessages(s.id, 3);
    const gz = gzipSync(encodeMessages([m[0], m[2], m[1]]));
    const url = await create(s.id, gz, sha256(gz));
    const res = await patch(t, url, 0, gz);
    assert.equal(res.status, 400);
    assert.match((await errorOf(res)).detail, /line 3: seq 2 does not follow 3/);
  });

  test('a gzip bomb (small upload, huge output) is stopped at the decompressed limit', async () => {
    // 200 gzip members of 10 MB of zeros each: about 2 GB decompressed from about 2 MB.
    const member = gzipSync(Buffer.alloc(10 * 1024 * 1024));
    const bomb = Buffer.concat(Array(200).fill(member));
    assert.ok(bomb.length < 4 * LIMIT);
    const t0 = performance.now();
    const { body } = await refusedFinal(bomb, 413, 'too-large');
    assert.match(body.detail, new RegExp(`more than ${LIMIT} bytes`));
    // Inflating the whole bomb would take seconds; stopping at the limit takes milliseconds.
    assert.ok(performance.now() - t0 < 5000);
  });

  test('a truncated gzip stream is refused', async () => {
    const { s } = await announce();
    const full = gzipSync(encodeMessages(makeMessages(s.id, 50)));
    const cut = full.subarray(0, full.length - 12);
    const url = await create(s.id, cut, sha256(cut));
    const res = await patch(t, url, 0, cut);
    assert.equal(res.status, 400);
    assert.equal((await errorOf(res)).error, 'bad-gzip');
    assert.equal((await t.collector.store.getSession(s.id))?.detail, undefined);
  });

  test('a PATCH at the wrong offset is a 409 and changes nothing', async () => {
    const { s } = await announce();
    const d = makeDetail(noisyMessages(s.id, 100, 600));
    const url = await create(s.id, d.gz, d.sha256);
    assert.equal((await patch(t, url, 0, d.gz.subarray(0, 1000))).status, 204);
    const res = await patch(t, url, 500, d.gz.subarray(500, 1500));
    assert.equal(res.status, 409);
    assert.equal((await errorOf(res)).error, 'offset-conflict');
    assert.equal((await head(t, url)).headers.get('upload-offset'), '1000');
    assert.equal((await uploadAll(t, url, d.gz, 64 * 1024, 1000)).status, 204);
  });

  test('a declared Upload-Length over the limit, or a PATCH past the declared length, is a 413', async () => {
    const { s } = await announce();
    const res = await createUpload(t, { sessionId: s.id, length: 4 * LIMIT + 1, sha256: 'a'.repeat(64) });
    assert.equal(res.status, 413);
    assert.equal((await errorOf(res)).error, 'too-large');
    const d = makeDetail(makeMessages(s.id, 20));
    const url = await create(s.id, d.gz, d.sha256);
    const over = await patch(t, url, 0, Buffer.concat([d.gz, Buffer.alloc(100)]));
    assert.equal(over.status, 413);
    assert.equal((await t.collector.store.getSession(s.id))?.detail, undefined);
  });

  test('upload creation checks the metadata, the session and the policy', async () => {
    const { s } = await announce();
    const sha = 'a'.repeat(64);
    const uploadFiles = () => readdirSync(uploadsDir()).filter((f) => f.endsWith('.json')).length;
    const filesBefore = uploadFiles();
    const cases: [Record<string, string>, number, string, RegExp][] = [
      [{ sessionId: s.id, product: 'demo' }, 400, 'invalid-field', /sha256 is required/],
      [{ sessionId: s.id, product: 'demo', sha256: 'XYZ' }, 400, 'invalid-field', /sha256 must be 64 lowercase hex/],
      [{ sessionId: 'nope', product: 'demo', sha256: sha }, 400, 'invalid-field', /sessionId must be a lowercase UUID/],
      [{ sessionId: s.id, product: 'other', sha256: sha }, 403, 'product-mismatch', /not "other"/],
      [{ sessionId: s.id, product: 'demo', sha256: sha, filename: 'x' }, 400, 'invalid-field', /unknown key filename/],
      [{ sessionId: makeSummary().id, product: 'demo', sha256: sha }, 400, 'unknown-session', /POST \/api\/v1\/sessions\/summaries first/],
    ];
    for (const [meta, status, error, detail] of cases) {
      const res = await t.req(PATHS.uploads, {
        method: 'POST',
        key: KEYS.all,
        headers: tusHeaders({ 'upload-length': '100', 'upload-metadata': tusMetadata(meta) }),
      });
      assert.equal(res.status, status, JSON.stringify(meta));
      const body = await errorOf(res);
      assert.equal(body.error, error);
      assert.match(body.detail, detail);
    }
    const deferred = await t.req(PATHS.uploads, {
      method: 'POST',
      key: KEYS.all,
      headers: tusHeaders({ 'upload-defer-length': '1', 'upload-metadata': tusMetadata({ sessionId: s.id, product: 'demo', sha256: sha }) }),
    });
    assert.equal(deferred.status, 400);
    const tiny = await createUpload(t, { sessionId: s.id, length: 5, sha256: sha });
    assert.equal(tiny.status, 400);
    const noTus = await t.req(PATHS.uploads, { method: 'POST', key: KEYS.all, headers: { 'upload-length': '100' } });
    assert.equal(noTus.status, 412);

    const quiet = makeSummary({ product: 'quiet', counts: countsWith({ error: 3 }) });
    await t.summaries([quiet], { key: KEYS.none, product: 'quiet' });
    const refused = await createUpload(t, { sessionId: quiet.id, length: 100, sha256: sha, product: 'quiet', key: KEYS.none });
    assert.equal(refused.status, 403);
    assert.equal((await errorOf(refused)).error, 'detail-not-wanted');
    assert.equal(uploadFiles(), filesBefore, 'no refused upload left a file');
  });

  test('another product’s key cannot see or write an upload', async () => {
    const { s } = await announce();
    const d = makeDetail(makeMessages(s.id, 5));
    const url = await create(s.id, d.gz, d.sha256);
    assert.equal((await head(t, url, KEYS.other)).status, 404);
    assert.equal((await patch(t, url, 0, d.gz, KEYS.other)).status, 404);
    assert.equal((await head(t, url)).headers.get('upload-offset'), '0');
  });

  test('the query string never picks the upload: another product’s upload cannot be read or written through it', async () => {
    const { s } = await announce();
    const mine = makeDetail(makeMessages(s.id, 5));
    const myUrl = await create(s.id, mine.gz, mine.sha256);
    const theirs = makeSummary({ product: 'other' });
    await t.summaries([theirs], { key: KEYS.other, product: 'other' });
    const td = makeDetail(makeMessages(theirs.id, 5));
    const made = await createUpload(t, { sessionId: theirs.id, length: td.gz.length, sha256: td.sha256, product: 'other', key: KEYS.other });
    assert.equal(made.status, 201);
    const theirUrl = made.headers.get('location')!;
    const theirId = theirUrl.split('/').pop()!;
    // tus alone takes the id after the last "/" of the whole URL, query included.
    for (const q of [`?/${theirId}`, `?x=/${theirId}`, `#/${theirId}`, `?/${theirId}/`]) {
      const h = await head(t, `${myUrl}${q}`);
      assert.equal(h.status, 200, q);
      assert.doesNotMatch(h.headers.get('upload-metadata') ?? '', new RegExp(Buffer.from(theirs.id).toString('base64')), `${q}: not their metadata`);
      assert.match(h.headers.get('upload-metadata') ?? '', new RegExp(Buffer.from(s.id).toString('base64')), `${q}: my own metadata`);
    }
    const p = await patch(t, `${myUrl}?/${theirId}`, 0, mine.gz.subarray(0, 10));
    assert.equal(p.status, 204);
    assert.equal((await head(t, theirUrl, KEYS.other)).headers.get('upload-offset'), '0', 'their upload is untouched');
    assert.equal((await head(t, myUrl)).headers.get('upload-offset'), '10', 'the bytes went to my upload');
  });

  test('a harmless query string on an upload URL is ignored: the upload works', async () => {
    const { s } = await announce();
    const d = makeDetail(makeMessages(s.id, 20));
    const url = await create(s.id, d.gz, d.sha256);
    const h = await head(t, `${url}?x=1`);
    assert.equal(h.status, 200);
    assert.equal(h.headers.get('upload-offset'), '0');
    const last = await uploadAll(t, `${url}?x=1&cache=${Date.now()}`, d.gz, 100);
    assert.equal(last.status, 204, await last.clone().text());
    assert.equal((await t.collector.store.getSession(s.id))?.detail?.messageCount, 20);
    assert.equal((await head(t, `${url}?x=1`)).status, 200);
  });

  test('odd upload URLs are clear 404s, never another upload nor a 500', async () => {
    const { s } = await announce();
    const d = makeDetail(makeMessages(s.id, 5));
    const url = await create(s.id, d.gz, d.sha256);
    const id = url.split('/').pop()!;
    const odd = [
      `${url}/`,
      `${url}%2F`,
      `${url.replace(id, '')}/${id}`,
      `${PATHS.uploads}/${id}%2F${id}`,
      `${PATHS.uploads}/..%2F${id}`,
      `${PATHS.uploads}/${id}/${id}`,
      `${PATHS.uploads}/${id.toUpperCase()}`,
      `${PATHS.uploads}/${id}${'0'.repeat(20_000)}`,
      `${url}/${'x'.repeat(20_000)}`,
    ];
    for (const u of odd) {
      for (const res of [await head(t, u), await patch(t, u, 0, d.gz.subarray(0, 5))]) {
        assert.equal(res.status, 404, u.slice(0, 120));
        if (res.body) {
          const e = await errorOf(res);
          assert.equal(e.error, 'not-found');
          assert.ok(e.detail.length < 400, 'the detail does not echo a huge path');
        }
      }
    }
    assert.equal((await head(t, url)).headers.get('upload-offset'), '0', 'nothing was written');
  });

  test('uploading a session already stored: the same or an older detail completes without changing it, a longer one replaces it', async () => {
    const { s } = await announce();
    const d = makeDetail(makeMessages(s.id, 5));
    const u1 = await create(s.id, d.gz, d.sha256);
    const u2 = await create(s.id, d.gz, d.sha256);
    assert.equal((await patch(t, u1, 0, d.gz)).status, 204);
    const shorter = makeDetail(makeMessages(s.id, 4));
    const u3 = await create(s.id, shorter.gz, shorter.sha256);
    assert.equal((await patch(t, u2, 0, d.gz)).status, 204);
    assert.equal((await patch(t, u3, 0, shorter.gz)).status, 204);
    let stored = await t.collector.store.getSession(s.id);
    assert.equal(stored?.detail?.sha256, d.sha256);
    assert.equal(stored?.detail?.messageCount, 5);
    assert.equal(await t.collector.store.blobs.has(shorter.sha256), false, 'the refused blob is not kept');
    const done = await patch(t, u1, 0, d.gz);
    assert.equal(done.status, 409, 'a completed upload takes no more bytes');
    assert.equal(done.headers.get('upload-offset'), String(d.gz.length));

    const longer = makeDetail(makeMessages(s.id, 6));
    assert.equal((await patch(t, await create(s.id, longer.gz, longer.sha256), 0, longer.gz)).status, 204);
    stored = await t.collector.store.getSession(s.id);
    assert.equal(stored?.detail?.sha256, longer.sha256);
    assert.equal(stored?.detail?.messageCount, 6);
    assert.equal(stored?.detail?.lastSeq, 6);
    assert.equal(await t.collector.store.blobs.has(d.sha256), false, 'the replaced blob is removed');
  });

  test('a session sent while running is asked for again once it goes further, and its complete detail replaces the partial one', async () => {
    const { s, reply } = await announce({ status: 'running', endedAt: undefined, counts: countsWith({ error: 1, information: 2 }) });
    assert.equal(reply.sessions[0].detail, 'wanted');
    const partial = makeDetail(makeMessages(s.id, 3));
    assert.equal((await patch(t, await create(s.id, partial.gz, partial.sha256), 0, partial.gz)).status, 204);
    assert.equal((await t.summaries([s])).sessions[0].detail, 'not-wanted', 'the same summary again: nothing new');

    // The session ends with two more messages: the server wants it again and takes it whole.
    const ended = {
      ...s,
      status: 'ended' as const,
      endedAt: s.startedAt + 60_000,
      counts: countsWith({ error: 2, information: 3 }),
      messageCount: 5,
      lastSeq: 5,
    };
    assert.equal((await t.summaries([ended])).sessions[0].detail, 'wanted');
    const stale = await t.collector.store.getSession(s.id);
    assert.equal(stale?.summary.status, 'ended', 'the newer summary is taken');
    assert.equal(stale?.detail?.sha256, partial.sha256, 'the partial detail stays until the complete one is stored');
    const complete = makeDetail(makeMessages(s.id, 5));
    assert.equal((await patch(t, await create(s.id, complete.gz, complete.sha256), 0, complete.gz)).status, 204);
    const stored = await t.collector.store.getSession(s.id);
    assert.equal(stored?.detail?.sha256, complete.sha256);
    assert.equal(stored?.detail?.messageCount, 5);
    assert.equal(await t.collector.store.blobs.has(partial.sha256), false, 'the partial blob is removed');
    assert.equal((await t.summaries([ended])).sessions[0].detail, 'not-wanted');
    // A late copy of the running summary does not roll the session back.
    await t.summaries([s]);
    assert.equal((await t.collector.store.getSession(s.id))?.summary.status, 'ended');
  });

  test('all bytes written but not stored (a crash in between): HEAD finishes the upload first', async () => {
    const { s } = await announce();
    const d = makeDetail(makeMessages(s.id, 7));
    const url = await create(s.id, d.gz, d.sha256);
    const id = url.split('/').pop()!;
    writeFileSync(join(uploadsDir(), id), d.gz); // as a PATCH would have, just before the crash
    assert.equal((await t.collector.store.getSession(s.id))?.detail, undefined);
    const h = await head(t, url);
    assert.equal(h.status, 200);
    assert.equal(h.headers.get('upload-offset'), String(d.gz.length));
    assert.equal((await t.collector.store.getSession(s.id))?.detail?.messageCount, 7);
  });

  test('expired unfinished uploads answer 410 and the scheduled cleanup deletes them', async () => {
    const { s } = await announce();
    const d = makeDetail(noisyMessages(s.id, 50, 600));
    const url = await create(s.id, d.gz, d.sha256);
    const id = url.split('/').pop()!;
    assert.equal((await patch(t, url, 0, d.gz.subarray(0, 1000))).status, 204);
    assert.equal(filesOf(id).length, 2);
    clock = t.collector.config.uploadExpirationMs + 1000;
    try {
      assert.equal((await head(t, url)).status, 410);
      const p = await patch(t, url, 1000, d.gz.subarray(1000));
      assert.equal(p.status, 410);
      assert.equal((await errorOf(p)).error, 'gone');
      assert.equal((await t.summaries([s])).sessions[0].upload, undefined);
      await t.collector.sweep();
      assert.deepEqual(filesOf(id), [], 'files deleted by the cleanup');
      assert.equal((await t.collector.store.getUpload(id))?.state, 'expired');
      assert.equal((await head(t, url)).status, 410, 'still 410 after cleanup');
    } finally {
      clock = 0;
    }
    // The agent starts over with a new upload.
    const fresh = await create(s.id, d.gz, d.sha256);
    assert.equal((await uploadAll(t, fresh, d.gz)).status, 204);
  });

  test('stray upload files are swept: a data file whose .json was never written and a .json alone go; an open upload and a young file stay', async () => {
    const strays = {
      dataAlone: 'a'.repeat(32), // a crash between FileStore writing the data file and its .json
      jsonAlone: 'b'.repeat(32),
      young: 'c'.repeat(32), // may be an upload being created right now: kept
    };
    writeFileSync(join(uploadsDir(), strays.dataAlone), 'partial bytes');
    writeFileSync(join(uploadsDir(), `${strays.jsonAlone}.json`), '{}');
    const { s } = await announce();
    const d = makeDetail(makeMessages(s.id, 5));
    const url = await create(s.id, d.gz, d.sha256);
    const open = url.split('/').pop()!;
    assert.equal((await patch(t, url, 0, d.gz.subarray(0, 10))).status, 204);
    clock = 2 * 60_000; // past the grace for files without a record, before the upload's expiry
    try {
      writeFileSync(join(uploadsDir(), strays.young), 'just created');
      // The young file is written "now" on the moved clock: give it that mtime.
      const nowS = (Date.now() + clock) / 1000;
      utimesSync(join(uploadsDir(), strays.young), nowS, nowS);
      await t.collector.sweep();
      assert.deepEqual(filesOf(strays.dataAlone), [], 'the data file without .json is removed');
      assert.deepEqual(filesOf(strays.jsonAlone), [], 'the .json without a record is removed');
      assert.deepEqual(filesOf(strays.young), [strays.young], 'a file younger than the grace is kept');
      assert.equal(filesOf(open).length, 2, 'an open upload keeps its files');
      assert.equal((await head(t, url)).headers.get('upload-offset'), '10');
    } finally {
      clock = 0;
    }
  });

  test('PATCH bodies a crash left in upload-tmp (S3 uploads) are swept once older than the upload expiry', async () => {
    const tmp = join(t.dir, 'upload-tmp');
    mkdirSync(tmp, { recursive: true });
    writeFileSync(join(tmp, 'stale.abc'), 'a PATCH body');
    writeFileSync(join(tmp, 'fresh.abc'), 'a PATCH body being sent now');
    const old = (Date.now() - t.collector.config.uploadExpirationMs - 60_000) / 1000;
    utimesSync(join(tmp, 'stale.abc'), old, old);
    await t.collector.sweep();
    assert.deepEqual(readdirSync(tmp), ['fresh.abc']);
  });

  test('the cleanup runs on its own schedule', async () => {
    const t2 = await startTestCollector({ over: { uploadExpirationMs: 1000, cleanupIntervalMs: 100 } });
    try {
      const s = makeSummary();
      await t2.summaries([s]);
      const d = makeDetail(makeMessages(s.id, 50));
      const res = await createUpload(t2, { sessionId: s.id, length: d.gz.length, sha256: d.sha256 });
      const url = res.headers.get('location')!;
      const id = url.split('/').pop()!;
      assert.equal((await patch(t2, url, 0, d.gz.subarray(0, 100))).status, 204);
      assert.equal(readdirSync(join(t2.dir, 'uploads')).filter((f) => f.startsWith(id)).length, 2);
      const files = () => readdirSync(join(t2.dir, 'uploads')).filter((f) => f.startsWith(id));
      await until(
        async () => (await t2.collector.store.getUpload(id))?.state === 'expired' && files().length === 0,
        'the scheduled cleanup to expire the upload and delete its files',
        10_000,
      );
      assert.equal((await head(t2, url)).status, 410);
    } finally {
      await t2.close();
    }
  });

  test('DELETE (termination) is not offered', async () => {
    const { s } = await announce();
    const d = makeDetail(makeMessages(s.id, 2));
    const url = await create(s.id, d.gz, d.sha256);
    const res = await t.req(url, { method: 'DELETE', key: KEYS.all, headers: tusHeaders() });
    assert.equal(res.status, 405);
    assert.equal((await head(t, url)).status, 200);
  });
});
