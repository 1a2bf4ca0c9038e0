import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { SendError } from '../../../src/shared/http-errors.js';
import { ADMIN_PATHS, PATHS, TUS } from '../../../src/shared/protocol.js';
import { tusUpload, type UploadState } from '../../../src/shared/tus-client.js';
import { makeDetail, makeSummary, noisyMessages } from '../server/fixtures.js';
import { KEYS, startTestCollector, type TestCollector } from '../server/harness.js';

let t: TestCollector;
before(async () => {
  t = await startTestCollector();
});
after(() => t.close());

const CHUNK = 16 * 1024;
/** The collector in-process as a `fetch` (the client's injected transport). */
const inProcess: typeof fetch = async (input, init) => t.collector.app.fetch(new Request(input as string, init));

const prepare = async () => {
  const summary = makeSummary({ product: 'demo' });
  await t.summaries([summary]);
  const detail = makeDetail(noisyMessages(summary.id, 60, 1500));
  return { summary, detail, blob: new Blob([new Uint8Array(detail.gz)]) };
};

const options = (id: string, blob: Blob, sha: string, state: UploadState, saved: UploadState[], f: typeof fetch = inProcess) => ({
  endpoint: `http://localhost${PATHS.uploads}`,
  blob,
  metadata: { [TUS.metadata.sessionId]: id, [TUS.metadata.product]: 'demo', [TUS.metadata.sha256]: sha },
  headers: { Authorization: `Ferry ${KEYS.all}` },
  chunkSize: CHUNK,
  state,
  saveState: (s: UploadState) => void saved.push(s),
  fetch: f,
});

/** Whether the collector holds the session’s messages (a summary alone does not count). */
const stored = async (id: string) => (await t.req(ADMIN_PATHS.messages(id), { admin: true })).status === 200;

test('tus client uploads in chunks and the session becomes visible only when complete', async () => {
  const { summary, detail, blob } = await prepare();
  const saved: UploadState[] = [];
  const r = await tusUpload(options(summary.id, blob, detail.sha256, { offset: 0 }, saved));
  assert.ok(blob.size > 3 * CHUNK, `several chunks (${blob.size} bytes)`);
  assert.equal(r.bytesSent, blob.size);
  assert.equal(saved.at(-1)?.offset, blob.size);
  assert.ok(await stored(summary.id));
});

test('a network failure mid-upload is retryable and the resume re-sends nothing already confirmed', async () => {
  const { summary, detail, blob } = await prepare();
  const saved: UploadState[] = [];
  let patches = 0;
  const failThird: typeof fetch = async (input, init) => {
    if (init?.method === 'PATCH' && ++patches === 3) throw new TypeError('Failed to fetch');
    return inProcess(input, init);
  };
  const err = await tusUpload(options(summary.id, blob, detail.sha256, { offset: 0 }, saved, failThird)).catch((e: unknown) => e);
  assert.ok(err instanceof SendError && err.retryable && err.status === undefined, String(err));
  assert.match((err as SendError).message, /network error/);
  assert.equal(await stored(summary.id), false, 'a partial upload is not a session');
  const resume = saved.at(-1)!;
  assert.equal(resume.offset, 2 * CHUNK);
  const r = await tusUpload(options(summary.id, blob, detail.sha256, resume, saved));
  assert.equal(r.resumedFrom, 2 * CHUNK);
  assert.equal(r.bytesSent, blob.size - 2 * CHUNK);
  assert.ok(await stored(summary.id));
});

test('a lost reply (server stored the chunk, client saw a failure) resumes from the server offset via HEAD', async () => {
  const { summary, detail, blob } = await prepare();
  const saved: UploadState[] = [];
  let patches = 0;
  const loseReply: typeof fetch = async (input, init) => {
    const res = await inProcess(input, init);
    if (init?.method === 'PATCH' && ++patches === 2) throw new TypeError('connection reset');
    return res;
  };
  await assert.rejects(tusUpload(options(summary.id, blob, detail.sha256, { offset: 0 }, saved, loseReply)), SendError);
  const stale = saved.at(-1)!;
  assert.equal(stale.offset, CHUNK, 'the client only knows the first chunk was confirmed');
  const r = await tusUpload(options(summary.id, blob, detail.sha256, stale, saved));
  assert.equal(r.resumedFrom, 2 * CHUNK, 'HEAD told the client the second chunk had arrived');
  assert.equal(r.bytesSent, blob.size - 2 * CHUNK);
});

test('a refused upload (SHA-256 mismatch) is a non-retryable SendError naming the URL and reason', async () => {
  const { summary, blob } = await prepare();
  const err = await tusUpload(options(summary.id, blob, '0'.repeat(64), { offset: 0 }, [])).catch((e: unknown) => e);
  assert.ok(err instanceof SendError);
  assert.equal(err.retryable, false);
  assert.ok(err.status && err.status >= 400 && err.status < 500);
  assert.equal(err.body?.error, 'sha256-mismatch');
  assert.match(err.message, /\/api\/v1\/uploads\/.* answered 4\d\d: sha256-mismatch/);
  assert.equal(await stored(summary.id), false);
});
