/**
 * Scaled out: two collector processes on one PostgreSQL and one S3-protocol server (s3rver),
 * behind HAProxy on loopback (round robin per request, no stickiness), an agent in Chromium
 * sending sessions with large details, so each upload's chunks alternate between the replicas.
 * One replica is killed (SIGKILL) mid-upload: every session is still stored exactly once, with
 * the detail it sent, and no upload objects are left behind.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import type { BrowserContext } from 'playwright-core';
import { openStore } from '../../src/server/store/open.js';
import { createS3Client } from '../../src/server/store/s3-client.js';
import type { Store } from '../../src/server/store/types.js';
import { ADMIN_PATHS, PATHS } from '../../src/shared/protocol.js';
import { openAgentPage } from '../support/agentPage.js';
import { launchBrowser, until } from '../support/browser.js';
import { startHaproxy, type TestHaproxy } from '../support/haproxy.js';
import { freePort } from '../support/ports.js';
import { startPostgres, type TestPostgres } from '../support/postgres.js';
import { startS3, type TestS3 } from '../support/s3.js';
import { type StaticServer, startStaticServer } from '../support/static-server.js';
import { ADMIN, KEYS } from '../unit/server/harness.js';
import { type CollectorProcess, spawnCollector } from '../unit/server/spawn.js';

let pg: TestPostgres;
let s3: TestS3;
let lb: TestHaproxy;
let web: StaticServer;
let browser: Awaited<ReturnType<typeof launchBrowser>>;
let replicas: CollectorProcess[] = [];
let store: Store;
let dir: string;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ferry-replicas-'));
  [pg, s3, web, browser] = await Promise.all([startPostgres(), startS3(), startStaticServer(), launchBrowser()]);
  const lbPort = await freePort();
  const config = {
    adminTokens: [ADMIN],
    trustProxy: true,
    // Upload URLs point at the load balancer, never at one replica.
    publicUrl: `http://127.0.0.1:${lbPort}`,
    store: { kind: 'postgres', url: pg.url, poolSize: 4 },
    blobs: s3.config('replicas/'),
    products: { demo: { policy: 'all', keys: [{ key: KEYS.all, origins: ['*'] }] } },
    rateLimit: { perMinute: 100_000, burst: 10_000 },
  };
  // A loaded CI machine can take a while to start two processes under tsx.
  replicas = await Promise.all([0, 1].map((i) => spawnCollector(mkdtempSync(join(dir, `r${i}-`)), config, { listenTimeoutMs: 60_000 })));
  lb = await startHaproxy(
    replicas.map((r) => Number(new URL(r.url).port)),
    lbPort,
  );
  // Both replicas in service before the agent starts.
  await until(async () => {
    const seen = new Set<string>();
    for (let i = 0; i < 6; i++) seen.add(((await (await fetch(`${lb.url}/ready`)).json()) as { status: string }).status);
    return seen.size === 1 && seen.has('ready');
  }, 'both replicas ready behind HAProxy');
  store = await openStore({ kind: 'postgres', url: pg.url, poolSize: 2 }, join(dir, 'reader'), s3.config('replicas/'));
});

after(async () => {
  await browser?.close();
  for (const r of replicas) if (r.child.exitCode === null && r.child.signalCode === null) await r.kill('SIGTERM');
  await lb?.stop();
  await store?.close();
  await web?.close();
  await Promise.all([pg?.stop(), s3?.stop()]);
  rmSync(dir, { recursive: true, force: true });
});

const N = 4000;

/** The uploads a replica took chunks of. */
const patchedOn = (r: CollectorProcess): Set<string> =>
  new Set(r.logs.filter((l) => l.msg === 'request' && l.method === 'PATCH' && l.status === 204).map((l) => String(l.path)));
const storedOn = (r: CollectorProcess, session: string) => r.logs.filter((l) => l.msg === 'detail stored' && l.session === session);

/** A session that logged `n` messages of hard-to-compress text, then ended (its page closed). */
const endedSession = async (context: BrowserContext, n: number): Promise<string> => {
  const page = await openAgentPage(context, web.url);
  const id = await page.evaluate(
    async ([url, key, n]) => {
      W().Ferry.init({ product: 'demo', application: 'editor', version: '1', server: { url, ingestKey: key, autoSendSessions: false } });
      await W().Ferry.ready();
      const noise = (): string => Array.from(crypto.getRandomValues(new Uint8Array(300)), (b) => b.toString(16).padStart(2, '0')).join('');
      for (let i = 0; i < n; i++) W().Ferry.log.information('Work', `step ${i} ${noise()}`, { details: { step: i } });
      W().Ferry.log.error('Work', 'something failed', { details: { step: n } });
      await W().Ferry.flush();
      return W().Ferry.getSessionId()!;
    },
    [lb.url, KEYS.all, n] as const,
  );
  await page.close();
  return id;
};

test('chunks alternate between two replicas; one is killed mid-upload; every session is stored exactly once', async () => {
  const context = await browser.newContext();
  // About 1.3 MB of gzip each: five or six chunks of 256 KiB per upload.
  const sessions = [await endedSession(context, N), await endedSession(context, N), await endedSession(context, N)];
  const [victim, survivor] = replicas;
  const sender = await openAgentPage(context, web.url);
  await sender.evaluate(
    async ([url, key]) => {
      W().Ferry.init({ product: 'demo', application: 'editor', version: '1', server: { url, ingestKey: key, autoSendSessions: true } });
      await W().Ferry.ready();
      W().Ferry.sendNow();
    },
    [lb.url, KEYS.all] as const,
  );

  // Mid-upload: both replicas have taken chunks of the same upload.
  await until(() => [...patchedOn(victim)].some((u) => patchedOn(survivor).has(u)), 'chunks of one upload on both replicas', 60_000).catch((e: unknown) => {
    const show = (r: CollectorProcess) =>
      r.logs.map((l) => `${l.msg} ${l.method ?? ''} ${l.path ?? ''} ${l.status ?? ''} ${l.error ?? ''} ${l.detail ?? ''}`).join('\n');
    throw new Error(`${(e as Error).message}\nA:\n${show(victim)}\nB:\n${show(survivor)}`);
  });
  const storedBefore = await Promise.all(sessions.map(async (id) => (await store.getSession(id))?.detail !== undefined));
  victim.child.kill('SIGKILL');
  assert.equal((await victim.exited).signal, 'SIGKILL');

  // The agent resumes through the load balancer, now only to the survivor.
  const stored = await until(
    async () => {
      const got = await Promise.all(sessions.map((id) => store.getSession(id)));
      return got.every((s) => s?.detail) ? got : undefined;
    },
    'every session stored after the kill',
    90_000,
    250,
  );
  assert.ok(storedBefore.includes(false), 'the kill came while uploads were still going');
  for (const s of stored) {
    const detail = s!.detail!;
    const gz = await store.blobs.read(detail.sha256);
    assert.ok(gz, `the blob of ${s!.summary.id} is in the bucket`);
    const lines = gunzipSync(gz).toString('utf8').trim().split('\n');
    assert.equal(lines.length, detail.messageCount);
    assert.ok(detail.messageCount >= N + 1, `all messages of ${s!.summary.id} (${detail.messageCount})`);
    assert.ok(detail.compressedBytes > 3 * 256 * 1024, `a detail of several chunks (${detail.compressedBytes} bytes)`);
  }
  // Exactly once: one "new" store per session over both replicas, no replacement.
  for (const id of sessions) {
    const results = [...storedOn(victim, id), ...storedOn(survivor, id)].map((l) => l.result);
    assert.equal(results.filter((r) => r === 'new').length, 1, `${id}: ${results}`);
    assert.ok(!results.includes('replaced'), `${id}: ${results}`);
  }
  const list = await fetch(`${lb.url}${ADMIN_PATHS.sessions}?limit=50`, { headers: { authorization: `Bearer ${ADMIN}` } });
  assert.equal(list.status, 200, await list.clone().text());
  const ids = ((await list.json()) as { sessions: { summary: { id: string } }[] }).sessions.map((s) => s.summary.id);
  for (const id of sessions) assert.equal(ids.filter((x) => x === id).length, 1, `${id} listed once`);

  // The upload objects of stored sessions are gone from the bucket (the survivor's sweep clears any
  // upload the dead replica left half-done).
  await fetch(`${lb.url}${PATHS.health}`);
  const left = await createS3Client(s3.config()).send(new ListObjectsV2Command({ Bucket: 'ferry-test', Prefix: 'replicas/uploads/' }));
  const leftIds = new Set((left.Contents ?? []).map((o) => o.Key?.split('/')[2]));
  for (const u of leftIds) {
    const rec = await store.getUpload(u ?? '');
    assert.notEqual(rec?.state, 'completed', `completed upload ${u} has no objects left`);
  }
  await context.close();
});
