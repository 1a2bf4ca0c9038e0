/**
 * Detail uploads on the replicas' storage: two collectors on one PostgreSQL and one S3-protocol
 * server (s3rver on loopback), each PATCH going to the other collector, as behind a round-robin
 * load balancer. Uploads in progress live in the bucket (s3-upload-store.ts), so either replica
 * resumes and completes any upload.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { createS3Client } from '../../../src/server/store/s3-client.js';
import { PATHS } from '../../../src/shared/protocol.js';
import { startPostgres, type TestPostgres } from '../../support/postgres.js';
import { startS3, type TestS3 } from '../../support/s3.js';
import { countsWith, makeDetail, makeSummary, noisyMessages } from './fixtures.js';
import { createUpload, head, KEYS, patch, startTestCollector, type TestCollector } from './harness.js';

describe('detail uploads on PostgreSQL + S3, across two replicas', () => {
  let pg: TestPostgres;
  let s3: TestS3;
  let a: TestCollector;
  let b: TestCollector;
  let clock = 0;
  const prefix = 'replicas/';
  before(async () => {
    [pg, s3] = await Promise.all([startPostgres(), startS3()]);
    const over = { store: { kind: 'postgres', url: pg.url, poolSize: 4 }, blobs: { ...s3.config(prefix) } };
    a = await startTestCollector({ over, now: () => Date.now() + clock });
    b = await startTestCollector({ over, now: () => Date.now() + clock });
  });
  after(async () => {
    await a?.close();
    await b?.close();
    await Promise.all([pg?.stop(), s3?.stop()]);
  });

  const objectsOf = async (id: string): Promise<string[]> => {
    const r = await createS3Client(s3.config()).send(new ListObjectsV2Command({ Bucket: 'ferry-test', Prefix: `${prefix}uploads/${id}/` }));
    return (r.Contents ?? []).map((o) => o.Key ?? '');
  };

  const start = async () => {
    const s = makeSummary({ counts: countsWith({ error: 1 }) });
    await a.summaries([s]);
    const d = makeDetail(noisyMessages(s.id, 1000, 600));
    const res = await createUpload(b, { sessionId: s.id, length: d.gz.length, sha256: d.sha256 });
    assert.equal(res.status, 201, await res.clone().text());
    const url = res.headers.get('location') ?? '';
    return { s, d, url, id: url.split('/').pop() ?? '' };
  };

  test('chunks alternating between replicas: every byte counted once, the session stored once, the upload objects removed', async () => {
    const { s, d, url, id } = await start();
    const chunk = 64 * 1024;
    assert.ok(d.gz.length > 3 * chunk, 'several chunks');
    let offset = 0;
    let turn = 0;
    while (offset < d.gz.length) {
      const replica = turn++ % 2 === 0 ? a : b;
      const h = await head(replica, url);
      assert.equal(h.status, 200);
      assert.equal(Number(h.headers.get('upload-offset')), offset, 'the other replica sees every chunk written so far');
      const res = await patch(replica, url, offset, d.gz.subarray(offset, offset + chunk));
      assert.equal(res.status, 204, await res.clone().text());
      offset = Number(res.headers.get('upload-offset'));
    }
    const stored = await b.collector.store.getSession(s.id);
    assert.equal(stored?.detail?.sha256, d.sha256);
    assert.equal(stored?.detail?.messageCount, 1000);
    assert.deepEqual(await a.collector.store.blobs.read(d.sha256), d.gz, 'the blob is in the bucket');
    assert.deepEqual(await objectsOf(id), [], 'the upload objects are removed once stored');
    for (const r of [a, b]) {
      const h = await head(r, url);
      assert.equal(h.status, 200);
      assert.equal(h.headers.get('upload-offset'), String(d.gz.length), 'a completed upload reads as complete on every replica');
    }
    const again = await patch(a, url, d.gz.length, d.gz.subarray(0, 10));
    assert.equal(again.status, 409);
  });

  test('S3 uploads too: a query string never picks the upload, and a harmless one is ignored', async () => {
    const mine = await start();
    const theirs = makeSummary({ product: 'other', counts: countsWith({ error: 1 }) });
    await a.summaries([theirs], { key: KEYS.other, product: 'other' });
    const td = makeDetail(noisyMessages(theirs.id, 10, 100));
    const made = await createUpload(a, { sessionId: theirs.id, length: td.gz.length, sha256: td.sha256, product: 'other', key: KEYS.other });
    assert.equal(made.status, 201);
    const theirUrl = made.headers.get('location') ?? '';
    const theirId = theirUrl.split('/').pop() ?? '';
    const h = await head(a, `${mine.url}?/${theirId}`);
    assert.equal(h.status, 200);
    assert.equal(h.headers.get('upload-length'), String(mine.d.gz.length), 'my upload, not theirs');
    assert.equal((await patch(b, `${mine.url}?/${theirId}`, 0, mine.d.gz.subarray(0, 100))).status, 204);
    assert.deepEqual(await objectsOf(theirId), [`${prefix}uploads/${theirId}/info.json`], 'nothing was written to their upload');
    assert.equal((await head(a, `${mine.url}?x=1`)).headers.get('upload-offset'), '100');
  });

  test('a PATCH at a stale offset on the other replica is refused with 409, and the upload goes on', async () => {
    const { d, url } = await start();
    assert.equal((await patch(a, url, 0, d.gz.subarray(0, 1000))).status, 204);
    const stale = await patch(b, url, 0, d.gz.subarray(0, 1000));
    assert.equal(stale.status, 409);
    assert.equal((await head(b, url)).headers.get('upload-offset'), '1000');
    const rest = await patch(b, url, 1000, d.gz.subarray(1000));
    assert.equal(rest.status, 204, await rest.clone().text());
  });

  test('expired unfinished uploads answer 410 on both replicas and the cleanup deletes their objects', async () => {
    const { d, url, id } = await start();
    assert.equal((await patch(a, url, 0, d.gz.subarray(0, 1000))).status, 204);
    assert.equal((await objectsOf(id)).length, 2, 'info and one chunk');
    clock = a.collector.config.uploadExpirationMs + 1000;
    try {
      assert.equal((await head(a, url)).status, 410);
      assert.equal((await patch(b, url, 1000, d.gz.subarray(1000))).status, 410);
      await b.collector.sweep();
      assert.deepEqual(await objectsOf(id), [], 'objects deleted by the cleanup');
    } finally {
      clock = 0;
    }
  });

  test('objects of an upload the database never heard of are swept after the grace period', async () => {
    const id = 'f'.repeat(32);
    await createS3Client(s3.config()).send(new PutObjectCommand({ Bucket: 'ferry-test', Key: `${prefix}uploads/${id}/c/000000000000`, Body: 'stray' }));
    await a.collector.sweep();
    assert.equal((await objectsOf(id)).length, 1, 'kept during the grace period (it may be an upload being created)');
    clock = 120_000;
    try {
      await a.collector.sweep();
    } finally {
      clock = 0;
    }
    assert.deepEqual(await objectsOf(id), []);
    assert.equal((await head(b, `${PATHS.uploads}/${id}`)).status, 404);
  });
});
