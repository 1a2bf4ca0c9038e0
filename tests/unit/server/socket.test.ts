/** The protocol over a real socket on 127.0.0.1: what in-process requests cannot show. */

import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { PATHS, TUS } from '../../../src/shared/protocol.js';
import { makeDetail, makeSummary, noisyMessages } from './fixtures.js';
import { createUpload, head, KEYS, startTestCollector, type TestCollector, tusHeaders, uploadAll } from './harness.js';

describe('over a socket', () => {
  let t: TestCollector;
  before(async () => {
    t = await startTestCollector({ listen: true });
  });
  after(() => t.close());

  test('the collector listens on 127.0.0.1 and prints its address', () => {
    assert.match(t.collector.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.ok(t.logs.some((l) => l.msg === 'listening' && l.url === t.collector.url));
  });

  test('a client that drops the connection mid-PATCH can resume from HEAD’s offset', async () => {
    const s = makeSummary();
    await t.summaries([s]);
    const d = makeDetail(noisyMessages(s.id, 400, 600));
    const created = await createUpload(t, { sessionId: s.id, length: d.gz.length, sha256: d.sha256 });
    const url = new URL(created.headers.get('location')!);
    const sent = 100_000;
    // Send part of a PATCH that claims the whole rest, then cut the connection.
    await new Promise<void>((resolve) => {
      const r = request({
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        method: 'PATCH',
        headers: {
          ...tusHeaders({ 'upload-offset': '0', 'content-type': TUS.contentType }),
          authorization: `Ferry ${KEYS.all}`,
          'content-length': d.gz.length,
        },
      });
      r.on('error', () => resolve());
      r.write(d.gz.subarray(0, sent), () => setImmediate(() => r.destroy()));
      r.on('close', () => resolve());
    });
    // HEAD waits for the dropped PATCH to be wound up (they share the upload's lock) and reports
    // what was written to disk: anything from nothing to all that was sent, never more.
    const h = await head(t, url.href);
    assert.equal(h.status, 200);
    const offset = Number(h.headers.get('upload-offset'));
    assert.ok(offset >= 0 && offset <= sent, `offset ${offset} within 0…${sent}`);
    assert.equal((await t.collector.store.getSession(s.id))?.detail, undefined);
    const last = await uploadAll(t, url.href, d.gz, 64 * 1024, offset);
    assert.equal(last.status, 204);
    assert.equal((await t.collector.store.getSession(s.id))?.detail?.sha256, d.sha256);
  });

  const rawPost = (path: string, headers: Record<string, string | number>, body: Buffer | Buffer[]): Promise<{ status: number; body: string }> =>
    new Promise((resolve, reject) => {
      const u = new URL(t.collector.url);
      const r = request({ host: u.hostname, port: u.port, path, method: 'POST', headers }, (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      });
      r.on('error', reject);
      for (const b of Array.isArray(body) ? body : [body]) r.write(b);
      r.end();
    });

  test('an oversized body gets a readable 413, declared or chunked, and the server keeps serving', async () => {
    const big = Buffer.alloc(2 * 1024 * 1024, 0x20);
    const declared = await rawPost(
      PATHS.summaries,
      { authorization: `Ferry ${KEYS.all}`, 'content-type': 'application/json', 'content-length': big.length },
      big,
    );
    assert.equal(declared.status, 413);
    assert.match(declared.body, /"too-large"/);
    const chunks = Array.from({ length: 32 }, () => Buffer.alloc(64 * 1024, 0x20));
    const chunked = await rawPost(
      PATHS.summaries,
      { authorization: `Ferry ${KEYS.all}`, 'content-type': 'application/json', 'transfer-encoding': 'chunked' },
      chunks,
    );
    assert.equal(chunked.status, 413);
    const ok = await t.summaries([makeSummary()]);
    assert.equal(ok.sessions.length, 1);
  });

  test('malformed JSON over the wire is a 400 with { error, detail }', async () => {
    const r = await rawPost(PATHS.summaries, { authorization: `Ferry ${KEYS.all}`, 'content-type': 'application/json' }, Buffer.from('{"product":'));
    assert.equal(r.status, 400);
    assert.deepEqual(Object.keys(JSON.parse(r.body) as object), ['error', 'detail']);
  });
});
