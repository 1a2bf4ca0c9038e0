/**
 * The worker API's implementation, with its globals injected so the same code serves the
 * dedicated worker and a service worker (no DOM, no window-only APIs).
 */

import { defaultEngine } from '../core/codec/engine.js';
import { idbChunkStore } from '../core/db/chunks.js';
import { deliveryMap, markPackaged } from '../core/db/delivery.js';
import { bundledMigrations } from '../core/db/migrations.js';
import { type FerryDatabase, openProductDb } from '../core/db/open.js';
import type { SessionRecord } from '../core/db/schema.js';
import { toSummary } from '../core/db/sessions.js';
import { type BuildProgress, buildPackage, type PackageSessionInput } from '../core/package/build.js';
import { compressSessionToOutbox } from '../core/package/detailBlob.js';
import { readPackage } from '../core/package/read.js';
import { selectSessions } from '../core/package/select.js';
import type { LogMessage } from '../shared/message.js';
import { PACKAGE_LIMITS, sessionEntryName } from '../shared/package-format.js';
import { emptyCounts } from '../shared/severity.js';
import type { FerryWorkerApi, PackageContents, PackageJob, PackageSessionStats } from '../shared/worker-protocol.js';

export interface WorkerEnv {
  open?: (product: string) => Promise<FerryDatabase>;
  now?: () => number;
}

const DEFAULT_MAX_MESSAGES = 10_000;

export const createWorkerApi = (env: WorkerEnv = {}): FerryWorkerApi => {
  const now = env.now ?? Date.now;
  const databases = new Map<string, Promise<FerryDatabase>>();
  const jobs = new Map<string, AbortController>();

  const database = (product: string): Promise<FerryDatabase> => {
    let db = databases.get(product);
    if (!db) {
      // Never created here: only the recording page creates the database, so a job that arrives
      // after clearLocalData() deleted it fails instead of leaving an empty one behind.
      db = env.open
        ? env.open(product)
        : openProductDb(product, { migrations: bundledMigrations, onClosed: () => databases.delete(product) }).then((r) => {
            if (!r) throw new Error(`Ferry worker: the database of product "${product}" does not exist`);
            return r.db;
          });
      // A failed open is not cached: the next call tries again.
      db.catch(() => databases.delete(product));
      databases.set(product, db);
    }
    return db;
  };

  const chosen = async (db: FerryDatabase, job: PackageJob): Promise<SessionRecord[]> => {
    if (!job.sessionIds) return selectSessions(db, job);
    const tx = db.transaction('sessions');
    const found = await Promise.all(job.sessionIds.map((id) => tx.store.get(id)));
    return found.filter((s): s is SessionRecord => s !== undefined && s.product === job.product);
  };

  return {
    ping: () => defaultEngine(),

    async selectSessions(query) {
      const db = await database(query.product);
      const [sessions, delivery] = await Promise.all([selectSessions(db, query), deliveryMap(db)]);
      return sessions.map((s) => toSummary(s, delivery.get(s.id)));
    },

    async buildPackage(job, onProgress) {
      const controller = new AbortController();
      jobs.set(job.jobId, controller);
      try {
        const engine = job.engine ?? defaultEngine();
        const db = job.memoryOnly ? undefined : await database(job.product);
        let records = db ? await chosen(db, job) : [];
        const inlineIds = new Set((job.inline ?? []).map((s) => s.summary.id));
        records = records.filter((r) => !inlineIds.has(r.id));
        const all: PackageSessionInput[] = [
          ...records.map((r) => ({ summary: toSummary(r), untilSeq: r.status === 'running' ? r.lastSeq : undefined })),
          ...(job.inline ?? []).map((s) => ({ summary: s.summary, inlineText: s.text })),
        ];
        // At most maxSessions per package (the collector's limit): the newest are kept.
        const skipped = Math.max(0, all.length - PACKAGE_LIMITS.maxSessions);
        const sessions = skipped ? all.slice(skipped) : all;
        // Progress goes over its own port; the last report is awaited before the result is
        // returned, so the caller never sees progress after the package.
        let delivered: Promise<unknown> = Promise.resolve();
        const report = onProgress
          ? (p: BuildProgress) => {
              delivered = Promise.resolve(onProgress(p)).catch(() => {});
            }
          : undefined;
        const out = await buildPackage(db ? idbChunkStore(db) : undefined, {
          product: job.product,
          created: job.created,
          creator: job.creator,
          criteria: job.criteria,
          description: job.description,
          replyTo: job.replyTo,
          sessions,
          engine,
          signal: controller.signal,
          onProgress: report,
        });
        await delivered;
        return { ...out, sessions: out.manifest.sessions, skipped, engine };
      } finally {
        jobs.delete(job.jobId);
      }
    },

    cancel(jobId) {
      jobs.get(jobId)?.abort(new DOMException('packaging was cancelled', 'AbortError'));
    },

    async markPackaged(product, sessions, at, sent) {
      return markPackaged(await database(product), sessions, at, sent);
    },

    async compressSession(product, sessionId, engine) {
      const db = await database(product);
      const e = engine ?? defaultEngine();
      const detail = await compressSessionToOutbox(db, idbChunkStore(db), sessionId, e, now());
      return { sessionId, size: detail.blob.size, engine: e, ...detail };
    },

    objectUrl(blob, lifetimeMs) {
      const url = URL.createObjectURL(blob);
      setTimeout(() => URL.revokeObjectURL(url), lifetimeMs);
      return url;
    },

    async readPackage(blob, options = {}) {
      const pkg = await readPackage(blob, options.engine);
      const want = new Set(options.messagesOf ?? []);
      const max = options.maxMessages ?? DEFAULT_MAX_MESSAGES;
      const contents: PackageContents = { manifest: pkg.manifest, sessions: [], messages: {} };
      for (const s of pkg.manifest.sessions) {
        const entry = pkg.entries.get(sessionEntryName(s.id))!;
        const stats: PackageSessionStats = {
          id: s.id,
          messageCount: 0,
          counts: emptyCounts(),
          firstSeq: 0,
          lastSeq: 0,
          bytes: entry.size,
          compressedBytes: entry.compressedSize,
        };
        const kept: LogMessage[] = [];
        for await (const block of pkg.messageBlocks(s.id)) {
          for (const m of block) {
            if (stats.messageCount++ === 0) stats.firstSeq = m.seq;
            stats.lastSeq = m.seq;
            stats.counts[m.severity]++;
            if (want.has(s.id) && kept.length < max) kept.push(m);
          }
        }
        contents.sessions.push(stats);
        if (want.has(s.id)) contents.messages[s.id] = kept;
      }
      return contents;
    },
  };
};
