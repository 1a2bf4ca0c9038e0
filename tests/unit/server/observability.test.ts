/** `/health`, `/ready` (store, schema, blobs) and `/metrics` (Prometheus text, token required). */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { migrate } from '../../../src/server/store/open.js';
import { openSqliteDb } from '../../../src/server/store/sqlite-db.js';
import { ADMIN_PATHS, PATHS } from '../../../src/shared/protocol.js';
import { makeSummary } from './fixtures.js';
import { KEYS, startTestCollector, type TestCollector } from './harness.js';

const METRICS_TOKEN = 'metrics-scraper-token-0001';

/** The value of one series in a Prometheus text exposition, or undefined. */
const series = (text: string, name: string, labels: Record<string, string> = {}): number | undefined => {
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const m = /^([a-z_]+)(\{[^}]*\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const got = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
    if (Object.entries(labels).every(([k, v]) => got[k] === v)) return Number(m[3]);
  }
  return undefined;
};

describe('health, readiness and metrics', () => {
  let t: TestCollector;
  before(async () => {
    t = await startTestCollector({ over: { metricsTokens: [METRICS_TOKEN] } });
  });
  after(() => t?.close());

  test('health and ready answer without auth; ready names the store, the blobs and the schema version', async () => {
    assert.equal((await t.req('/health')).status, 200);
    const r = await t.req('/ready');
    assert.equal(r.status, 200);
    const body = (await r.json()) as Record<string, string>;
    assert.equal(body.status, 'ready');
    assert.equal(body.store, 'sqlite');
    assert.equal(body.blobs, 'files');
    assert.match(body.schema, /^\d+$/);
  });

  test('metrics need the metrics token or an admin token; the metrics token opens nothing else', async () => {
    assert.equal((await t.req('/metrics')).status, 401);
    assert.equal((await t.req('/metrics', { headers: { authorization: 'Bearer not-a-token-000000000' } })).status, 401);
    assert.equal((await t.req('/metrics', { key: KEYS.all })).status, 403, 'an ingest key is refused');
    const ok = await t.req('/metrics', { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
    assert.equal(ok.status, 200);
    assert.match(ok.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    assert.equal((await t.req('/metrics', { admin: true })).status, 200);
    assert.equal((await t.req(ADMIN_PATHS.sessions, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })).status, 401);
  });

  test('requests, bytes, refusals by reason, store latency and in-flight gauges are counted', async () => {
    const body = JSON.stringify({ product: 'demo', sentAt: Date.now(), sessions: [makeSummary()] });
    const okRes = await t.req(PATHS.summaries, {
      method: 'POST',
      key: KEYS.all,
      headers: { 'content-type': 'application/json', 'content-length': String(body.length) },
      body,
    });
    assert.equal(okRes.status, 200);
    assert.equal(
      (await t.req(PATHS.summaries, { method: 'POST', key: 'no-such-key-0000', headers: { 'content-type': 'application/json' }, body })).status,
      401,
    );
    const text = await (await t.req('/metrics', { admin: true })).text();
    assert.ok((series(text, 'ferry_http_requests_total', { route: PATHS.summaries, method: 'POST', status: '200' }) ?? 0) >= 1, text);
    assert.ok((series(text, 'ferry_http_received_bytes_total', { route: PATHS.summaries }) ?? 0) >= body.length);
    assert.ok((series(text, 'ferry_rejected_total', { reason: 'unauthorized' }) ?? 0) >= 2, 'the bad key and the metrics 401s');
    assert.ok((series(text, 'ferry_store_operation_duration_seconds_count', { op: 'store.saveSummaries' }) ?? 0) >= 1);
    assert.equal(series(text, 'ferry_uploads_in_flight'), 0);
    assert.ok((series(text, 'process_resident_memory_bytes') ?? 0) > 1e6);
    assert.ok(!text.includes(KEYS.all), 'no ingest key in any label');
  });
});

test('not ready until the database is migrated (migrateOnStart: false), ready after migrate', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-ready-'));
  const t = await startTestCollector({ dir, over: { migrateOnStart: false } });
  try {
    const r = await t.req('/ready');
    assert.equal(r.status, 503);
    assert.match(((await r.json()) as { reason: string }).reason, /schema is at version 0.*run migrate/);
    const db = openSqliteDb(join(dir, 'ferry.db'));
    await migrate(db);
    await db.close();
    assert.equal((await t.req('/ready')).status, 200);
  } finally {
    await t.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
