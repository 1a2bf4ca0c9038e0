/**
 * The Store contract, run against the embedded store (SQLite + blob files), the production
 * store (PostgreSQL + blob files, a real server started for this file) and the replicas' store
 * (PostgreSQL + S3, a real S3-protocol server on loopback).
 */

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import type { Db } from '../../../src/server/store/db.js';
import { openStore } from '../../../src/server/store/open.js';
import { openPostgresDb } from '../../../src/server/store/postgres-db.js';
import { MIGRATIONS, migrationStatements } from '../../../src/server/store/schema.js';
import { openSqliteDb } from '../../../src/server/store/sqlite-db.js';
import type { DetailInput, Store, SummaryInput, UploadRecord } from '../../../src/server/store/types.js';
import { StoreError } from '../../../src/server/store/types.js';
import { emptyCounts } from '../../../src/shared/severity.js';
import type { SessionSummary } from '../../../src/shared/summary.js';
import { startPostgres, type TestPostgres } from '../../support/postgres.js';
import { startS3, type TestS3 } from '../../support/s3.js';
import { countsWith, makeSummary, sha256 } from './fixtures.js';

const product = (): string => `p${randomBytes(4).toString('hex')}`;
const input = (summary: SessionSummary, over: Partial<SummaryInput> = {}): SummaryInput => ({
  summary,
  startedAt: summary.startedAt,
  endedAt: summary.endedAt,
  clockOffsetMs: 0,
  receivedAt: Date.now(),
  sentAt: Date.now(),
  ...over,
});
const blobOf = (text: string): { gz: Buffer; sha: string } => {
  const gz = gzipSync(text);
  return { gz, sha: sha256(gz) };
};
// By default a detail as complete as any summary in these tests (lastSeq far past theirs).
const detail = (sessionId: string, sha: string, gz: Buffer, lastSeq = 1_000_000): DetailInput => ({
  sessionId,
  sha256: sha,
  compressedBytes: gz.length,
  bytes: 100,
  messageCount: 2,
  counts: { ...emptyCounts(), error: 1, information: 1 },
  lastSeq,
  receivedAt: Date.now(),
});
const upload = (sessionId: string, p: string, over: Partial<UploadRecord> = {}): UploadRecord => ({
  id: randomBytes(16).toString('hex'),
  sessionId,
  product: p,
  length: 100,
  sha256: 'a'.repeat(64),
  createdAt: Date.now(),
  expiresAt: Date.now() + 60_000,
  state: 'open',
  ...over,
});

const contract = (name: string, open: () => Promise<{ store: Store; close(): Promise<void> }>): void => {
  describe(`store contract: ${name}`, () => {
    let store: Store;
    let close: () => Promise<void>;
    before(async () => {
      ({ store, close } = await open());
    });
    after(async () => close?.());

    test('summaries are upserted idempotently and report whether detail exists', async () => {
      const p = product();
      const s = makeSummary({ product: p });
      assert.deepEqual(await store.saveSummaries([input(s)]), [{ id: s.id, hasDetail: false }]);
      assert.deepEqual(await store.saveSummaries([input(s)]), [{ id: s.id, hasDetail: false }]);
      const later = { ...s, status: 'crashed' as const, counts: countsWith({ error: 2 }) };
      await store.saveSummaries([input(later)]);
      const list = await store.listSessions({ product: p, limit: 10 });
      assert.equal(list.sessions.length, 1);
      assert.equal(list.sessions[0].summary.status, 'crashed');
      assert.equal(list.sessions[0].worst, 'error');
      assert.equal(list.sessions[0].source, 'agent');
    });

    test('concurrent calls, even with the same sessions, all succeed and store each session once', async () => {
      const p = product();
      const shared = makeSummary({ product: p });
      const calls = Array.from({ length: 8 }, (_, i) => [input(shared), input(makeSummary({ product: p, version: String(i) }))]);
      const results = await Promise.all(calls.map((c) => store.saveSummaries(c)));
      results.forEach((r, i) =>
        assert.deepEqual(
          r.map((x) => x.id),
          calls[i].map((c) => c.summary.id),
        ),
      );
      const list = await store.listSessions({ product: p, limit: 100 });
      assert.equal(list.sessions.length, 9);
    });

    test('a session id already used by another product is never overwritten', async () => {
      const mine = makeSummary({ product: product() });
      await store.saveSummaries([input(mine)]);
      const theirs = { ...mine, product: product(), application: 'intruder' };
      assert.deepEqual(await store.saveSummaries([input(theirs)]), [{ id: mine.id, hasDetail: true }], 'told to stop');
      const b = blobOf(`{"x":"${mine.id}"}\n`);
      const pkg = {
        id: randomBytes(32).toString('hex'),
        product: theirs.product,
        receivedAt: Date.now(),
        created: Date.now(),
        creator: { agentVersion: '1', userAgent: 'u' },
        criteria: [],
        sessionIds: [mine.id],
      };
      assert.deepEqual(await store.storePackage(pkg, [{ session: input(theirs), detail: detail(mine.id, b.sha, b.gz), blob: { bytes: b.gz } }]), [
        { id: mine.id, stored: 'existing' },
      ]);
      const kept = await store.getSession(mine.id);
      assert.equal(kept?.summary.product, mine.product);
      assert.equal(kept?.summary.application, mine.application);
      assert.equal(kept?.detail, undefined);
    });

    test('a large batch of summaries is stored in one call', async () => {
      const p = product();
      const many = Array.from({ length: 1000 }, () => input(makeSummary({ product: p })));
      const states = await store.saveSummaries(many);
      assert.equal(states.length, 1000);
      let seen = 0;
      let cursor: string | undefined;
      do {
        const page = await store.listSessions({ product: p, limit: 300, cursor });
        seen += page.sessions.length;
        cursor = page.next;
      } while (cursor);
      assert.equal(seen, 1000);
    });

    test('detail is stored once: blob on disk, session shows it, a second copy is dropped', async () => {
      const p = product();
      const s = makeSummary({ product: p });
      await store.saveSummaries([input(s)]);
      const a = blobOf(`{"first":"${s.id}"}\n`);
      assert.equal(await store.storeDetail(detail(s.id, a.sha, a.gz), { bytes: a.gz }), 'new');
      assert.ok(await store.blobs.has(a.sha));
      assert.deepEqual(await store.blobs.read(a.sha), a.gz);
      const got = await store.getSession(s.id);
      assert.equal(got?.detail?.sha256, a.sha);
      assert.equal(got?.detail?.counts.error, 1);

      const b = blobOf(`{"second":"${s.id}"}\n`);
      assert.equal(await store.storeDetail(detail(s.id, b.sha, b.gz), { bytes: b.gz }), 'existing');
      assert.equal((await store.getSession(s.id))?.detail?.sha256, a.sha);
      assert.equal(await store.blobs.has(b.sha), false, 'the unreferenced second blob is removed');

      // A re-sent summary no longer changes a session whose detail is stored.
      const states = await store.saveSummaries([input({ ...s, status: 'crashed' })]);
      assert.deepEqual(states, [{ id: s.id, hasDetail: true, detailLastSeq: 1_000_000 }]);
      assert.equal((await store.getSession(s.id))?.summary.status, 'ended');
    });

    test('detail for an unknown session is refused and completes no upload', async () => {
      const p = product();
      const s = makeSummary({ product: p });
      const u = upload(s.id, p);
      await store.createUpload(u);
      const a = blobOf('x\n');
      await assert.rejects(store.storeDetail(detail(s.id, a.sha, a.gz), { bytes: a.gz }, u.id), StoreError);
      assert.equal((await store.getUpload(u.id))?.state, 'open');
      assert.equal(await store.getSession(s.id), undefined);
    });

    test('uploads: newest open upload per session, completion, expiry and purge', async () => {
      const p = product();
      const s = makeSummary({ product: p });
      await store.saveSummaries([input(s)]);
      const old = upload(s.id, p, { createdAt: Date.now() - 5000, expiresAt: Date.now() - 1000 });
      const newer = upload(s.id, p, { createdAt: Date.now() });
      await store.createUpload(old);
      await store.createUpload(newer);
      assert.equal((await store.openUploads([s.id])).get(s.id)?.id, newer.id);
      const expired = await store.expireUploads(Date.now());
      assert.ok(expired.some((u) => u.id === old.id));
      assert.ok(!expired.some((u) => u.id === newer.id));
      assert.equal((await store.getUpload(old.id))?.state, 'expired');

      const a = blobOf(`{"u":"${s.id}"}\n`);
      await store.storeDetail(detail(s.id, a.sha, a.gz), { bytes: a.gz }, newer.id);
      const done = await store.getUpload(newer.id);
      assert.equal(done?.state, 'completed');
      assert.ok(done?.completedAt);
      assert.equal((await store.openUploads([s.id])).size, 0);

      assert.ok((await store.purgeUploads(Date.now() + 1)) >= 2);
      assert.equal(await store.getUpload(old.id), undefined);
      assert.equal(await store.getUpload(newer.id), undefined);
    });

    test('packages store every session once, idempotent by session id', async () => {
      const p = product();
      const known = makeSummary({ product: p });
      const stored = makeSummary({ product: p });
      const fresh = makeSummary({ product: p, counts: countsWith({ critical: 1 }) });
      await store.saveSummaries([input(known), input(stored)]);
      const pre = blobOf(`{"pre":"${stored.id}"}\n`);
      await store.storeDetail(detail(stored.id, pre.sha, pre.gz), { bytes: pre.gz });

      const sessions = [known, stored, fresh].map((summary) => {
        const b = blobOf(`{"pkg":"${summary.id}"}\n`);
        return { session: input(summary), detail: detail(summary.id, b.sha, b.gz), blob: { bytes: b.gz }, sha: b.sha };
      });
      const pkg = {
        id: randomBytes(32).toString('hex'),
        product: p,
        receivedAt: Date.now(),
        created: Date.now() - 1000,
        creator: { agentVersion: '0.1.0', userAgent: 'ua' },
        criteria: ['error'],
        description: 'desc',
        replyTo: 'a@b.c',
        sessionIds: [known.id, stored.id, fresh.id],
      };
      const r1 = await store.storePackage(pkg, sessions);
      assert.deepEqual(r1, [
        { id: known.id, stored: 'new' },
        { id: stored.id, stored: 'existing' },
        { id: fresh.id, stored: 'new' },
      ]);
      assert.equal((await store.getSession(stored.id))?.detail?.sha256, pre.sha, 'existing detail kept');
      assert.equal(await store.blobs.has(sessions[1].sha), false, 'no blob written for a session already stored');
      const f = await store.getSession(fresh.id);
      assert.equal(f?.source, 'package');
      assert.equal(f?.packageId, pkg.id);
      assert.equal(f?.detail?.sha256, sessions[2].sha);
      assert.equal((await store.getSession(known.id))?.detail?.sha256, sessions[0].sha);

      const r2 = await store.storePackage(pkg, sessions);
      assert.ok(r2.every((x) => x.stored === 'existing'));
      const pkgs = (await store.listPackages(100)).filter((x) => x.product === p);
      assert.equal(pkgs.length, 1);
      assert.deepEqual(pkgs[0].sessionIds, pkg.sessionIds);
      assert.equal(pkgs[0].description, 'desc');
    });

    test('a newer detail (higher lastSeq) replaces a partial one, atomically, by upload or package', async () => {
      const p = product();
      const running = makeSummary({ product: p, status: 'running' });
      await store.saveSummaries([input(running)]);
      const partial = blobOf(`{"partial":"${running.id}"}\n`);
      assert.equal(await store.storeDetail(detail(running.id, partial.sha, partial.gz, 3), { bytes: partial.gz }), 'new');
      // The same summary again does not change it; one that ends it does, with what it needs.
      assert.deepEqual(await store.saveSummaries([input(running)]), [{ id: running.id, hasDetail: true, detailLastSeq: 3 }]);
      const ended = { ...running, status: 'ended' as const, lastSeq: 9, messageCount: 9 };
      assert.deepEqual(await store.saveSummaries([input(ended)]), [{ id: running.id, hasDetail: true, detailLastSeq: 3 }]);
      assert.equal((await store.getSession(running.id))?.summary.lastSeq, 9);

      // Two newer details finishing at once: exactly one wins, the other blob goes.
      const a = blobOf(`{"a":"${running.id}"}\n`);
      const b = blobOf(`{"b":"${running.id}"}\n`);
      const results = await Promise.all([
        store.storeDetail(detail(running.id, a.sha, a.gz, 9), { bytes: a.gz }),
        store.storeDetail(detail(running.id, b.sha, b.gz, 9), { bytes: b.gz }),
      ]);
      assert.deepEqual([...results].sort(), ['existing', 'replaced']);
      const winner = results[0] === 'replaced' ? a : b;
      const loser = winner === a ? b : a;
      assert.equal((await store.getSession(running.id))?.detail?.sha256, winner.sha);
      assert.equal((await store.getSession(running.id))?.detail?.lastSeq, 9);
      assert.equal(await store.blobs.has(partial.sha), false, 'the replaced blob is removed');
      assert.equal(await store.blobs.has(loser.sha), false, 'the losing blob is removed');
      assert.ok(await store.blobs.has(winner.sha));

      // An older detail, by upload or in a package, changes nothing.
      const old = blobOf(`{"old":"${running.id}"}\n`);
      assert.equal(await store.storeDetail(detail(running.id, old.sha, old.gz, 5), { bytes: old.gz }), 'existing');
      const pkg = (ids: string[]) => ({
        id: randomBytes(32).toString('hex'),
        product: p,
        receivedAt: Date.now(),
        created: Date.now(),
        creator: { agentVersion: '0.1.0', userAgent: 'ua' },
        criteria: ['active'],
        sessionIds: ids,
      });
      assert.deepEqual(
        await store.storePackage(pkg([running.id]), [{ session: input(running), detail: detail(running.id, old.sha, old.gz, 5), blob: { bytes: old.gz } }]),
        [{ id: running.id, stored: 'existing' }],
      );
      assert.equal((await store.getSession(running.id))?.detail?.sha256, winner.sha);
      // A package with a longer detail replaces it.
      const full = blobOf(`{"full":"${running.id}"}\n`);
      const longer = { ...ended, lastSeq: 12, messageCount: 12 };
      assert.deepEqual(
        await store.storePackage(pkg([running.id]), [{ session: input(longer), detail: detail(running.id, full.sha, full.gz, 12), blob: { bytes: full.gz } }]),
        [{ id: running.id, stored: 'new' }],
      );
      assert.equal((await store.getSession(running.id))?.detail?.sha256, full.sha);
      assert.equal(await store.blobs.has(winner.sha), false);
    });

    test('session list filters and keyset pagination', async () => {
      const p = product();
      const t0 = Date.UTC(2025, 0, 1);
      const mk = (i: number, over: Partial<SessionSummary>): SessionSummary =>
        makeSummary({ product: p, startedAt: t0 + Math.floor(i / 2) * 1000, endedAt: t0 + 500_000, ...over });
      const all = [
        mk(0, { application: 'a', version: '1', status: 'ended', counts: countsWith({ verbose: 1 }) }),
        mk(1, { application: 'a', version: '2', status: 'crashed', counts: countsWith({ warning: 1 }) }),
        mk(2, { application: 'b', version: '1', status: 'ended', counts: countsWith({ error: 1 }) }),
        mk(3, { application: 'b', version: '2', status: 'running', counts: countsWith({ critical: 1 }) }),
        mk(4, { application: 'a', version: '1', status: 'ended', counts: emptyCounts() }),
      ];
      await store.saveSummaries(all.map((s) => input(s)));
      const gz = blobOf(`{"d":"${all[2].id}"}\n`);
      await store.storeDetail(detail(all[2].id, gz.sha, gz.gz), { bytes: gz.gz });
      const ids = async (q: Partial<Parameters<Store['listSessions']>[0]>): Promise<string[]> =>
        (await store.listSessions({ product: p, limit: 50, ...q })).sessions.map((s) => s.summary.id).sort();
      const idsOf = (...i: number[]): string[] => i.map((n) => all[n].id).sort();
      assert.deepEqual(await ids({ application: 'a' }), idsOf(0, 1, 4));
      assert.deepEqual(await ids({ version: '2' }), idsOf(1, 3));
      assert.deepEqual(await ids({ status: 'crashed' }), idsOf(1));
      assert.deepEqual(await ids({ minSeverity: 'warning' }), idsOf(1, 2, 3));
      assert.deepEqual(await ids({ minSeverity: 'error' }), idsOf(2, 3));
      assert.deepEqual(await ids({ from: t0 + 1000, to: t0 + 2000 }), idsOf(2, 3));
      assert.deepEqual(await ids({ hasDetail: true }), idsOf(2));
      assert.deepEqual(await ids({ hasDetail: false, application: 'b' }), idsOf(3));

      // Pages of two, newest first, across equal start times, each session exactly once.
      const order: string[] = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const page = await store.listSessions({ product: p, limit: 2, cursor });
        order.push(...page.sessions.map((s) => s.summary.id));
        cursor = page.next;
        pages++;
      } while (cursor);
      assert.equal(pages, 3);
      assert.deepEqual([...order].sort(), idsOf(0, 1, 2, 3, 4));
      const starts = order.map((id) => all.find((s) => s.id === id)!.startedAt);
      assert.deepEqual(
        starts,
        [...starts].sort((a, b) => b - a),
      );
    });

    test('session context: filters by environment, user, installation and context tags, kept in step with the summary', async () => {
      const p = product();
      const mk = (over: Partial<SessionSummary>): SessionSummary => makeSummary({ product: p, ...over });
      const all = [
        mk({ environment: 'production', installationId: 'inst-a', user: { id: 'u-1', name: 'Ada' }, context: { plan: 'pro', seats: 5, beta: true } }),
        mk({ environment: 'production', installationId: 'inst-b', user: { id: 'u-2' }, context: { plan: 'free', seats: 1 } }),
        mk({ environment: 'staging', installationId: 'inst-a', user: { id: 'u-1' }, context: { plan: 'pro', seats: '5' } }),
        mk({}),
      ];
      await store.saveSummaries(all.map((s) => input(s)));
      const ids = async (q: Partial<Parameters<Store['listSessions']>[0]>): Promise<string[]> =>
        (await store.listSessions({ product: p, limit: 50, ...q })).sessions.map((s) => s.summary.id).sort();
      const idsOf = (...i: number[]): string[] => i.map((n) => all[n].id).sort();
      assert.deepEqual(await ids({ environment: 'production' }), idsOf(0, 1));
      assert.deepEqual(await ids({ user: 'u-1' }), idsOf(0, 2));
      assert.deepEqual(await ids({ installation: 'inst-a' }), idsOf(0, 2));
      assert.deepEqual(await ids({ context: [['plan', 'pro']] }), idsOf(0, 2));
      assert.deepEqual(await ids({ context: [['seats', '5']] }), idsOf(0, 2), 'a number matches as JSON writes it, like the string "5"');
      assert.deepEqual(await ids({ context: [['beta', 'true']] }), idsOf(0));
      assert.deepEqual(
        await ids({
          context: [
            ['plan', 'pro'],
            ['seats', '1'],
          ],
        }),
        [],
        'every tag must match',
      );
      assert.deepEqual(await ids({ environment: 'production', context: [['plan', 'free']] }), idsOf(1));
      assert.deepEqual(await ids({ environment: 'production', user: 'u-1', context: [['plan', 'pro']] }), idsOf(0));
      assert.deepEqual(await ids({ environment: 'nowhere' }), []);
      assert.deepEqual((await store.getSession(all[0].id))?.summary.context, { plan: 'pro', seats: 5, beta: true }, 'the summary keeps the types');

      // A newer summary of a session (no detail stored) replaces its context; one the store keeps
      // out (its detail is stored and it goes no further) leaves the old context in place.
      await store.saveSummaries([input({ ...all[0], status: 'crashed', user: { id: 'u-3' }, context: { plan: 'team' } })]);
      assert.deepEqual(await ids({ context: [['plan', 'pro']] }), idsOf(2));
      assert.deepEqual(await ids({ context: [['plan', 'team']] }), idsOf(0));
      assert.deepEqual(await ids({ user: 'u-3' }), idsOf(0));
      assert.deepEqual(await ids({ context: [['seats', '5']] }), idsOf(2), 'a tag the newer summary dropped is gone');
      const b = blobOf(`{"d":"${all[1].id}"}\n`);
      await store.storeDetail(detail(all[1].id, b.sha, b.gz), { bytes: b.gz });
      await store.saveSummaries([input({ ...all[1], context: { plan: 'pro' } })]);
      assert.deepEqual(await ids({ context: [['plan', 'free']] }), idsOf(1), 'kept with the summary it belongs to');

      // Two requests offering one session in a single commit leave the context of the one kept.
      const twice = mk({ context: { plan: 'a' } });
      await Promise.all([store.saveSummaries([input(twice)]), store.saveSummaries([input({ ...twice, context: { plan: 'b' } })])]);
      const kept = (await store.getSession(twice.id))?.summary.context?.plan;
      assert.deepEqual(await ids({ context: [['plan', String(kept)]] }), [twice.id]);
      assert.deepEqual(await ids({ context: [['plan', kept === 'a' ? 'b' : 'a']] }), []);

      // Counts over time take the same filters.
      const t0 = Math.min(...all.map((s) => s.startedAt)) - 1000;
      const counts = await store.countsOverTime({
        product: p,
        from: t0,
        to: Date.now() + 1000,
        bucketMs: 3600_000,
        environment: 'production',
        context: [['plan', 'free']],
      });
      assert.equal(
        counts.buckets.reduce((n, x) => n + x.sessions, 0),
        1,
      );
    });

    test('a package stores its sessions’ context for the filters', async () => {
      const p = product();
      const s = makeSummary({ product: p, environment: 'qa', user: { id: 'u-9' }, context: { plan: 'pro' } });
      const b = blobOf(`{"pkg":"${s.id}"}\n`);
      const pkg = {
        id: randomBytes(32).toString('hex'),
        product: p,
        receivedAt: Date.now(),
        created: Date.now(),
        creator: { agentVersion: '0.1.0', userAgent: 'ua', environment: 'qa', installationId: 'inst-p' },
        criteria: ['completed'],
        sessionIds: [s.id],
      };
      await store.storePackage(pkg, [{ session: input(s), detail: detail(s.id, b.sha, b.gz), blob: { bytes: b.gz } }]);
      const found = await store.listSessions({ product: p, limit: 10, environment: 'qa', user: 'u-9', context: [['plan', 'pro']] });
      assert.deepEqual(
        found.sessions.map((x) => x.summary.id),
        [s.id],
      );
      assert.deepEqual((await store.listPackages(500)).find((x) => x.id === pkg.id)?.creator, pkg.creator);
    });

    test('a package record keeps the packager’s problems (and how many were left out)', async () => {
      const p = product();
      const s = makeSummary({ product: p });
      const b = blobOf(`{"problems":"${s.id}"}\n`);
      const problems = [{ sessionId: s.id, chunkSeq: 7, reason: 'its text is number, not a string' }];
      const base = {
        product: p,
        receivedAt: Date.now(),
        created: Date.now(),
        creator: { agentVersion: '0.1.0', userAgent: 'ua' },
        criteria: ['error'],
        sessionIds: [s.id],
      };
      const withProblems = { ...base, id: randomBytes(32).toString('hex'), problems, problemsOmitted: 3 };
      const without = { ...base, id: randomBytes(32).toString('hex') };
      await store.storePackage(withProblems, [{ session: input(s), detail: detail(s.id, b.sha, b.gz), blob: { bytes: b.gz } }]);
      await store.storePackage(without, [{ session: input(s), detail: detail(s.id, b.sha, b.gz), blob: { bytes: b.gz } }]);
      const listed = await store.listPackages(500);
      const a = listed.find((x) => x.id === withProblems.id);
      assert.deepEqual(a?.problems, problems);
      assert.equal(a?.problemsOmitted, 3);
      const n = listed.find((x) => x.id === without.id);
      assert.ok(n);
      assert.equal('problems' in n, false);
      assert.equal('problemsOmitted' in n, false);
    });

    test('counts over time sum sessions, crashes and severities per bucket', async () => {
      const p = product();
      const t0 = Date.UTC(2025, 5, 1);
      const hour = 3600_000;
      await store.saveSummaries(
        [
          makeSummary({ product: p, startedAt: t0 + 10, counts: countsWith({ error: 2, information: 5 }) }),
          makeSummary({ product: p, startedAt: t0 + 20, status: 'crashed', counts: countsWith({ error: 1 }) }),
          makeSummary({ product: p, startedAt: t0 + 2 * hour + 5, counts: countsWith({ warning: 4 }) }),
          makeSummary({ product: p, startedAt: t0 + 5 * hour, counts: countsWith({ critical: 9 }) }),
        ].map((s) => input(s)),
      );
      const r = await store.countsOverTime({ product: p, from: t0, to: t0 + 3 * hour, bucketMs: hour });
      assert.equal(r.buckets.length, 3);
      assert.deepEqual(
        r.buckets.map((b) => [b.start, b.sessions, b.crashed, b.counts.error, b.counts.information, b.counts.warning]),
        [
          [t0, 2, 1, 3, 5, 0],
          [t0 + hour, 0, 0, 0, 0, 0],
          [t0 + 2 * hour, 1, 0, 0, 0, 4],
        ],
      );
    });

    test('a summary’s unknown fields (extra) are kept beside it, replaced by a later summary, and stored from packages too', async () => {
      const p = product();
      const s = makeSummary({ product: p });
      await store.saveSummaries([input(s, { extra: { color: 'blue', 'dropped.byQuota': 4, note: 'naïve ✓' } })]);
      assert.deepEqual((await store.getSession(s.id))?.extra, { color: 'blue', 'dropped.byQuota': 4, note: 'naïve ✓' });
      await store.saveSummaries([input({ ...s, lastSeq: s.lastSeq + 1 }, { extra: { color: 'green' } })]);
      assert.deepEqual((await store.getSession(s.id))?.extra, { color: 'green' }, 'the later summary’s fields, as it was sent');
      await store.saveSummaries([input({ ...s, lastSeq: s.lastSeq + 2 })]);
      assert.equal((await store.getSession(s.id))?.extra, undefined, 'a later summary without them has none');
      const listed = await store.listSessions({ product: p, limit: 5 });
      assert.equal(listed.sessions[0].extra, undefined);

      const packaged = makeSummary({ product: p });
      const b = blobOf(`{"pkg":"${packaged.id}"}\n`);
      await store.storePackage(
        {
          id: randomBytes(32).toString('hex'),
          product: p,
          receivedAt: Date.now(),
          created: Date.now(),
          creator: { agentVersion: '0.2.0', userAgent: 'ua' },
          criteria: ['new'],
          sessionIds: [packaged.id],
        },
        [{ session: input(packaged, { extra: { context: { plan: 'pro' } } }), detail: detail(packaged.id, b.sha, b.gz), blob: { bytes: b.gz } }],
      );
      const fromPackage = await store.getSession(packaged.id);
      assert.deepEqual(fromPackage?.extra, { context: { plan: 'pro' } });
      const inList = (await store.listSessions({ product: p, limit: 5 })).sessions.find((x) => x.summary.id === packaged.id);
      assert.deepEqual(inList?.extra, { context: { plan: 'pro' } }, 'the list reads them too');
    });

    test('ping answers while open', async () => {
      await store.ping();
    });
  });
};

/**
 * A database left by the previous collector (schema version 2, before `extra`) opens, is migrated
 * to the current version, keeps its sessions, and takes unknown fields from then on.
 */
const migrationContract = (name: string, legacy: () => Promise<{ db: Db; reopen(): Promise<Store & { db: Db }>; cleanup(): Promise<void> }>): void => {
  test(`schema migration 2 → ${MIGRATIONS.length}: ${name}`, async () => {
    const { db, reopen, cleanup } = await legacy();
    try {
      await db.run('CREATE TABLE ferry_schema (version INTEGER NOT NULL)');
      await db.run('INSERT INTO ferry_schema (version) VALUES (2)');
      for (const m of migrationStatements(0).slice(0, 2)) for (const st of m.statements) await db.run(st);
      const old = makeSummary({ product: 'legacy' });
      await db.run(
        `INSERT INTO sessions (id, product, application, version, status, started_at, clock_offset_ms, worst, n_critical, n_error, n_warning,
           n_information, n_verbose, message_count, summary, received_at, source, last_seq) VALUES (${Array(18).fill('?').join(', ')})`,
        [old.id, old.product, old.application, old.version, old.status, old.startedAt, 0, -1, 0, 0, 0, 3, 0, 3, JSON.stringify(old), Date.now(), 'agent', 3],
      );
      await db.close();
      const store = await reopen();
      try {
        const [row] = await store.db.all<{ version: number }>('SELECT version FROM ferry_schema');
        assert.equal(Number(row.version), MIGRATIONS.length);
        const kept = await store.getSession(old.id);
        assert.deepEqual(kept?.summary, old, 'the session the old collector stored is kept');
        assert.equal(kept?.extra, undefined);
        const next = makeSummary({ product: 'legacy' });
        await store.saveSummaries([input(next, { extra: { color: 'blue' } })]);
        assert.deepEqual((await store.getSession(next.id))?.extra, { color: 'blue' });
      } finally {
        await store.close();
      }
    } finally {
      await cleanup();
    }
  });
};

migrationContract('SQLite', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-store-'));
  return {
    db: openSqliteDb(join(dir, 'ferry.db')),
    reopen: () => openStore({ kind: 'sqlite' }, dir),
    cleanup: async () => rmSync(dir, { recursive: true, force: true }),
  };
});

migrationContract('PostgreSQL', async () => {
  const server = await startPostgres();
  const url = await server.createDatabase('ferry_legacy');
  const dir = mkdtempSync(join(tmpdir(), 'ferry-store-'));
  return {
    db: openPostgresDb(url, 2),
    reopen: () => openStore({ kind: 'postgres', url, poolSize: 2 }, dir),
    cleanup: async () => {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

contract('embedded (SQLite + files)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-store-'));
  const store = await openStore({ kind: 'sqlite' }, dir);
  return {
    store,
    close: async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

let pg: TestPostgres | undefined;
contract('PostgreSQL + files', async () => {
  pg = await startPostgres();
  const dir = mkdtempSync(join(tmpdir(), 'ferry-store-'));
  const store = await openStore({ kind: 'postgres', url: pg.url, poolSize: 5 }, dir);
  return {
    store,
    close: async () => {
      await store.close();
      await pg?.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

let pgS3: TestPostgres | undefined;
let s3: TestS3 | undefined;
contract('PostgreSQL + S3', async () => {
  [pgS3, s3] = await Promise.all([startPostgres(), startS3()]);
  const dir = mkdtempSync(join(tmpdir(), 'ferry-store-'));
  const store = await openStore({ kind: 'postgres', url: pgS3.url, poolSize: 5 }, dir, s3.config('contract/'));
  return {
    store,
    close: async () => {
      await store.close();
      await Promise.all([pgS3?.stop(), s3?.stop()]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
});
