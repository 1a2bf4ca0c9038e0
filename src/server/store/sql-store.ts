/**
 * The Store over a SQL database: one implementation for SQLite and PostgreSQL (they differ only
 * in the driver, see db.ts), so both stores behave identically and share the contract tests.
 */
import { contextText } from '../../shared/context.js';
import type { PackageProblem } from '../../shared/package-format.js';
import type { CountsBucket, PackageRecord, PackageReply, StoredSession, SummaryExtra } from '../../shared/protocol.js';
import { emptyCounts, SEVERITIES, type Severity, type SeverityCounts, severityRank, worstSeverity } from '../../shared/severity.js';
import type { SessionSummary } from '../../shared/summary.js';
import { createBlobRefs } from './blob-refs.js';
import type { BlobStore } from './blobs.js';
import type { Db, Queryable, SqlValue } from './db.js';
import { createTriageStore } from './triage-store.js';
import { type DetailInput, type SessionQuery, type SessionState, type Store, StoreError, type SummaryInput, type UploadRecord } from './types.js';

type Row = Record<string, unknown>;
interface StoredDetailRef {
  sha: string | null;
  lastSeq: number | undefined;
  product: string;
}

const SESSION_COLS = [
  'id',
  'product',
  'application',
  'version',
  'status',
  'started_at',
  'ended_at',
  'clock_offset_ms',
  'worst',
  'n_critical',
  'n_error',
  'n_warning',
  'n_information',
  'n_verbose',
  'message_count',
  'summary',
  'received_at',
  'sent_at',
  'source',
  'package_id',
  'last_seq',
  'extra',
  'environment',
  'user_id',
  'installation_id',
] as const;
const DETAIL_COLS = ['detail_sha256', 'detail_compressed', 'detail_bytes', 'detail_messages', 'detail_counts', 'detail_at', 'detail_last_seq'] as const;
/**
 * When a stored session takes a newer summary or detail. Without detail, always; with detail,
 * only one that goes past it: a session sent while running (an error asked for it) is replaced
 * by its complete detail after it ends. Detail stored before lastSeq was recorded is final.
 */
const SUMMARY_REFRESH = `sessions.product = excluded.product AND (sessions.detail_sha256 IS NULL
  OR excluded.last_seq > COALESCE(sessions.detail_last_seq, excluded.last_seq)
  OR (sessions.status = 'running' AND excluded.status <> 'running'))`;
const DETAIL_NEWER = `(sessions.detail_sha256 IS NULL OR sessions.detail_last_seq < excluded.detail_last_seq)`;
// Columns a re-sent summary refreshes (id and detail never change through a summary).
const UPDATABLE = SESSION_COLS.filter((c) => c !== 'id');

const int = (n: number | undefined): number | null => (n === undefined ? null : Math.round(n));
const num = (v: unknown): number => (typeof v === 'number' ? v : Number(v));
const optNum = (v: unknown): number | undefined => (v === null || v === undefined ? undefined : num(v));

const RANK_TO_SEVERITY = new Map<number, Severity>(SEVERITIES.map((s) => [severityRank(s), s]));

const sessionValues = (s: SummaryInput, source: 'agent' | 'package', packageId: string | null): SqlValue[] => {
  const w = worstSeverity(s.summary.counts);
  const c = s.summary.counts;
  return [
    s.summary.id,
    s.summary.product,
    s.summary.application,
    s.summary.version,
    s.summary.status,
    int(s.startedAt),
    int(s.endedAt),
    int(s.clockOffsetMs),
    w === undefined ? -1 : severityRank(w),
    c.critical,
    c.error,
    c.warning,
    c.information,
    c.verbose,
    s.summary.messageCount,
    JSON.stringify(s.summary),
    int(s.receivedAt),
    int(s.sentAt),
    source,
    packageId,
    s.summary.lastSeq,
    s.extra && Object.keys(s.extra).length > 0 ? JSON.stringify(s.extra) : null,
    s.summary.environment ?? null,
    s.summary.user?.id ?? null,
    s.summary.installationId ?? null,
  ];
};

const detailValues = (d: DetailInput): SqlValue[] => [
  d.sha256,
  d.compressedBytes,
  d.bytes,
  d.messageCount,
  JSON.stringify(d.counts),
  int(d.receivedAt),
  d.lastSeq,
];

const placeholders = (n: number): string => `(${Array(n).fill('?').join(', ')})`;

const rowToSession = (r: Row): StoredSession => {
  const s: StoredSession = {
    summary: JSON.parse(r.summary as string) as SessionSummary,
    startedAt: num(r.started_at),
    clockOffsetMs: num(r.clock_offset_ms),
    receivedAt: num(r.received_at),
    source: r.source as 'agent' | 'package',
  };
  if (typeof r.extra === 'string') s.extra = JSON.parse(r.extra) as SummaryExtra;
  const ended = optNum(r.ended_at);
  if (ended !== undefined) s.endedAt = ended;
  const worst = RANK_TO_SEVERITY.get(num(r.worst));
  if (worst) s.worst = worst;
  const sent = optNum(r.sent_at);
  if (sent !== undefined) s.sentAt = sent;
  if (r.package_id) s.packageId = r.package_id as string;
  if (r.detail_sha256) {
    s.detail = {
      sha256: r.detail_sha256 as string,
      compressedBytes: num(r.detail_compressed),
      bytes: num(r.detail_bytes),
      messageCount: num(r.detail_messages),
      counts: JSON.parse(r.detail_counts as string) as SeverityCounts,
      receivedAt: num(r.detail_at),
    };
    const lastSeq = optNum(r.detail_last_seq);
    if (lastSeq !== undefined) s.detail.lastSeq = lastSeq;
  }
  return s;
};

const rowToUpload = (r: Row): UploadRecord => {
  const u: UploadRecord = {
    id: r.id as string,
    sessionId: r.session_id as string,
    product: r.product as string,
    length: num(r.length),
    sha256: r.sha256 as string,
    createdAt: num(r.created_at),
    expiresAt: num(r.expires_at),
    state: r.state as UploadRecord['state'],
  };
  const done = optNum(r.completed_at);
  if (done !== undefined) u.completedAt = done;
  return u;
};

const rowToPackage = (r: Row): PackageRecord => {
  const p: PackageRecord = {
    id: r.id as string,
    product: r.product as string,
    receivedAt: num(r.received_at),
    created: num(r.created),
    creator: JSON.parse(r.creator as string) as PackageRecord['creator'],
    criteria: JSON.parse(r.criteria as string) as string[],
    sessionIds: JSON.parse(r.session_ids as string) as string[],
  };
  if (r.description !== null && r.description !== undefined) p.description = r.description as string;
  if (r.reply_to !== null && r.reply_to !== undefined) p.replyTo = r.reply_to as string;
  if (typeof r.problems === 'string') p.problems = JSON.parse(r.problems) as PackageProblem[];
  const omitted = optNum(r.problems_omitted);
  if (omitted !== undefined && omitted > 0) p.problemsOmitted = omitted;
  return p;
};

export const encodeCursor = (startedAt: number, id: string): string => Buffer.from(`${startedAt}:${id}`).toString('base64url');
export const decodeCursor = (cursor: string): { startedAt: number; id: string } | undefined => {
  const m = /^(-?\d+):([0-9a-f-]{36})$/.exec(Buffer.from(cursor, 'base64url').toString());
  return m ? { startedAt: Number(m[1]), id: m[2] } : undefined;
};

const inList = (n: number): string => `(${Array(n).fill('?').join(', ')})`;
const chunks = <T>(items: readonly T[], size: number): T[][] => {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
};

/** Many-row statements stay under SQLite's 32,766 bound parameters. */
const ROWS_PER_STATEMENT = 200;

/**
 * Group commit: calls that arrive while a transaction runs wait and then share the next one.
 * SQLite has one writer and every commit waits for an fsync, so under concurrent requests this
 * turns many small fsyncs into a few (PostgreSQL commits on parallel connections by itself).
 * A failing transaction fails every call that shared it; inputs are validated before they get
 * here, so that means the database itself failed.
 */
export const coalesce = <I, O>(run: (batches: I[][]) => Promise<O[][]>): ((items: I[]) => Promise<O[]>) => {
  let queue: { items: I[]; resolve: (o: O[]) => void; reject: (e: unknown) => void }[] = [];
  let running = false;
  const pump = async (): Promise<void> => {
    if (running || queue.length === 0) return;
    running = true;
    const batch = queue;
    queue = [];
    try {
      const out = await run(batch.map((b) => b.items));
      batch.forEach((b, i) => b.resolve(out[i]));
    } catch (e) {
      for (const b of batch) b.reject(e);
    }
    running = false;
    void pump();
  };
  return (items) =>
    new Promise<O[]>((resolve, reject) => {
      queue.push({ items, resolve, reject });
      void pump();
    });
};

export const createSqlStore = (db: Db, blobs: BlobStore, now: () => number = Date.now): Store => {
  const refs = createBlobRefs(db, blobs);
  const forUpdate = db.dialect === 'postgres' ? ' FOR UPDATE' : '';
  /**
   * Makes the context rows of the sessions whose summary was just written match that summary.
   * `written` holds the summaries offered for those rows; an id offered twice (two requests that
   * shared one SQLite transaction) is read back, since either copy may be the one that was kept.
   */
  const replaceContext = async (q: Queryable, written: ReadonlySet<string>, offered: readonly SessionSummary[]): Promise<void> => {
    if (written.size === 0) return;
    const byId = new Map<string, SessionSummary | undefined>();
    for (const s of offered) if (written.has(s.id)) byId.set(s.id, byId.has(s.id) ? undefined : s);
    const ids = [...written];
    const twice = ids.filter((id) => byId.get(id) === undefined);
    for (const part of chunks(twice, 500)) {
      const rows = await q.all<Row>(`SELECT id, summary FROM sessions WHERE id IN ${inList(part.length)}`, part);
      for (const r of rows) byId.set(r.id as string, JSON.parse(r.summary as string) as SessionSummary);
    }
    for (const part of chunks(ids, 500)) await q.run(`DELETE FROM session_context WHERE session_id IN ${inList(part.length)}`, part);
    const tags = ids.flatMap((id) => Object.entries(byId.get(id)?.context ?? {}).map(([k, v]): SqlValue[] => [id, k, contextText(v)]));
    for (const part of chunks(tags, ROWS_PER_STATEMENT))
      await q.run(`INSERT INTO session_context (session_id, name, value) VALUES ${part.map(() => placeholders(3)).join(', ')}`, part.flat());
  };

  const upsertSummaries = async (q: Queryable, items: readonly SummaryInput[]): Promise<void> => {
    const written = new Set<string>();
    for (const part of chunks(items, ROWS_PER_STATEMENT)) {
      const params = part.flatMap((s) => sessionValues(s, 'agent', null));
      const rows = await q.all<Row>(
        `INSERT INTO sessions (${SESSION_COLS.join(', ')}) VALUES ${part.map(() => placeholders(SESSION_COLS.length)).join(', ')}
         ON CONFLICT (id) DO UPDATE SET ${UPDATABLE.filter((c) => c !== 'source' && c !== 'package_id')
           .map((c) => `${c} = excluded.${c}`)
           .join(', ')}
         WHERE ${SUMMARY_REFRESH}
         RETURNING id`,
        params,
      );
      for (const r of rows) written.add(r.id as string);
    }
    await replaceContext(
      q,
      written,
      items.map((s) => s.summary),
    );
  };

  /** Each id's stored detail hash (null without detail), its last seq, and product. */
  const detailOf = async (q: Queryable, ids: readonly string[]): Promise<Map<string, StoredDetailRef>> => {
    const out = new Map<string, StoredDetailRef>();
    for (const part of chunks(ids, 500)) {
      const rows = await q.all<Row>(`SELECT id, product, detail_sha256, detail_last_seq FROM sessions WHERE id IN ${inList(part.length)}`, part);
      for (const r of rows)
        out.set(r.id as string, { sha: (r.detail_sha256 as string | null) ?? null, lastSeq: optNum(r.detail_last_seq), product: r.product as string });
    }
    return out;
  };

  const saveInOneTx = async (batches: SummaryInput[][]): Promise<SessionState[][]> => {
    const all = batches.flat();
    const ids = [...new Set(all.map((s) => s.summary.id))];
    const detail = await db.tx(async (q) => {
      await upsertSummaries(q, all);
      return detailOf(q, ids);
    });
    // An id already taken by another product's session is never touched; answering "has
    // detail" makes the sender stop without telling it anything about that session.
    const state = (s: SummaryInput): SessionState => {
      const d = detail.get(s.summary.id);
      if (!d || d.product !== s.summary.product) return { id: s.summary.id, hasDetail: true };
      return d.sha && d.lastSeq !== undefined
        ? { id: s.summary.id, hasDetail: true, detailLastSeq: d.lastSeq }
        : { id: s.summary.id, hasDetail: Boolean(d.sha) };
    };
    return batches.map((b) => b.map(state));
  };
  // PostgreSQL refuses one INSERT touching a row twice, so there each call keeps its own
  // transaction (and parallel connections give it concurrency anyway).
  const saveBatched = db.dialect === 'sqlite' ? coalesce(saveInOneTx) : async (items: SummaryInput[]) => (await saveInOneTx([items]))[0];

  const filters = (q: Partial<SessionQuery>): { where: string[]; params: SqlValue[] } => {
    const where: string[] = [];
    const params: SqlValue[] = [];
    const eq = (col: string, v: string | undefined): void => {
      if (v !== undefined) {
        where.push(`${col} = ?`);
        params.push(v);
      }
    };
    eq('product', q.product);
    eq('application', q.application);
    eq('version', q.version);
    eq('status', q.status);
    eq('environment', q.environment);
    eq('user_id', q.user);
    eq('installation_id', q.installation);
    for (const [name, value] of q.context ?? []) {
      where.push('EXISTS (SELECT 1 FROM session_context c WHERE c.session_id = sessions.id AND c.name = ? AND c.value = ?)');
      params.push(name, value);
    }
    if (q.minSeverity) {
      where.push('worst >= ?');
      params.push(severityRank(q.minSeverity));
    }
    if (q.from !== undefined) {
      where.push('started_at >= ?');
      params.push(Math.round(q.from));
    }
    if (q.to !== undefined) {
      where.push('started_at < ?');
      params.push(Math.round(q.to));
    }
    if (q.hasDetail !== undefined) where.push(q.hasDetail ? 'detail_sha256 IS NOT NULL' : 'detail_sha256 IS NULL');
    return { where, params };
  };

  return {
    kind: db.dialect,
    blobs,
    ...createTriageStore({ db, blobs, filters, rowToSession }),

    async saveSummaries(items) {
      if (items.length === 0) return [];
      return saveBatched([...items]);
    },

    async getSession(id) {
      const rows = await db.all<Row>(`SELECT * FROM sessions WHERE id = ?`, [id]);
      return rows[0] ? rowToSession(rows[0]) : undefined;
    },

    async createUpload(u) {
      await db.run(`INSERT INTO uploads (id, session_id, product, length, sha256, created_at, expires_at, state, completed_at) VALUES ${placeholders(9)}`, [
        u.id,
        u.sessionId,
        u.product,
        u.length,
        u.sha256,
        int(u.createdAt),
        int(u.expiresAt),
        u.state,
        int(u.completedAt),
      ]);
    },

    async getUpload(id) {
      const rows = await db.all<Row>(`SELECT * FROM uploads WHERE id = ?`, [id]);
      return rows[0] ? rowToUpload(rows[0]) : undefined;
    },

    async openUploads(sessionIds) {
      const out = new Map<string, UploadRecord>();
      for (const part of chunks(sessionIds, 500)) {
        if (part.length === 0) continue;
        const rows = await db.all<Row>(`SELECT * FROM uploads WHERE state = 'open' AND session_id IN ${inList(part.length)} ORDER BY created_at, id`, part);
        for (const r of rows) out.set(r.session_id as string, rowToUpload(r));
      }
      return out;
    },

    async storeDetail(detail, blob, uploadId) {
      await blobs.put(detail.sha256, blob);
      const { result, unreferenced } = await db.tx(async (q) => {
        await refs.hold(q, [{ sha256: detail.sha256, source: blob }]);
        // Row-locked on PostgreSQL (SQLite has one writer): the detail read here is the one replaced.
        const rows = await q.all<Row>(`SELECT detail_sha256, last_seq, summary FROM sessions WHERE id = ?${forUpdate}`, [detail.sessionId]);
        if (!rows[0]) throw new StoreError(`no summary for session ${detail.sessionId}`);
        const before = { sha: (rows[0].detail_sha256 as string | null) ?? null };
        const changed = await q.run(
          `UPDATE sessions SET ${DETAIL_COLS.map((c) => `${c} = ?`).join(', ')}
           WHERE id = ? AND (detail_sha256 IS NULL OR detail_last_seq < ?)`,
          [...detailValues(detail), detail.sessionId, detail.lastSeq],
        );
        // The summary's counts are the agent's claim; once its detail's lines cover it (reach its
        // last seq), the lines' counts are what `worst`, the filters and the counts show. A
        // summary past the detail keeps its claim until the newer detail comes.
        const summaryLastSeq = optNum(rows[0].last_seq) ?? 0;
        if (changed > 0 && detail.lastSeq >= summaryLastSeq) {
          const summary: SessionSummary = {
            ...(JSON.parse(rows[0].summary as string) as SessionSummary),
            counts: { ...detail.counts },
            messageCount: detail.messageCount,
          };
          const w = worstSeverity(detail.counts);
          await q.run(`UPDATE sessions SET summary = ?, worst = ?, ${SEVERITIES.map((s) => `n_${s} = ?`).join(', ')}, message_count = ? WHERE id = ?`, [
            JSON.stringify(summary),
            w === undefined ? -1 : severityRank(w),
            ...SEVERITIES.map((s) => detail.counts[s]),
            detail.messageCount,
            detail.sessionId,
          ]);
        }
        if (uploadId !== undefined) {
          await q.run(`UPDATE uploads SET state = 'completed', completed_at = ? WHERE id = ?`, [int(now()), uploadId]);
        }
        if (changed === 0) return { result: 'existing' as const, unreferenced: before.sha === detail.sha256 ? undefined : detail.sha256 };
        return before.sha
          ? { result: 'replaced' as const, unreferenced: before.sha === detail.sha256 ? undefined : before.sha }
          : { result: 'new' as const, unreferenced: undefined };
      });
      // A blob no longer referenced goes, unless another request committed a row for it meanwhile.
      if (unreferenced !== undefined) await refs.removeUnreferenced([unreferenced]);
      return result;
    },

    async storePackage(pkg, sessions) {
      const ids = sessions.map((s) => s.session.summary.id);
      // Read outside the transaction, this only spares writing blobs that cannot be stored: what
      // is replaced, and which blob loses, is decided inside it (a concurrent copy of the same
      // package may commit in between).
      const hint = await detailOf(db, ids);
      const fresh = sessions
        .filter((s) => {
          const b = hint.get(s.session.summary.id);
          return !b || (b.product === s.session.summary.product && (!b.sha || (b.lastSeq !== undefined && b.lastSeq < s.detail.lastSeq)));
        })
        // One order for every writer's row locks (PostgreSQL), so two packages never deadlock.
        .sort((a, b) => (a.session.summary.id < b.session.summary.id ? -1 : a.session.summary.id > b.session.summary.id ? 1 : 0));
      for (const s of fresh) await blobs.put(s.detail.sha256, s.blob);
      const { stored, unreferenced } = await db.tx(async (q) => {
        await refs.hold(
          q,
          fresh.map((s) => ({ sha256: s.detail.sha256, source: s.blob })),
        );
        const freshIds = fresh.map((s) => s.session.summary.id);
        const before = new Map<string, string | null>();
        for (const part of chunks(freshIds, 500)) {
          const rows = await q.all<Row>(`SELECT id, detail_sha256 FROM sessions WHERE id IN ${inList(part.length)} ORDER BY id${forUpdate}`, part);
          for (const r of rows) before.set(r.id as string, (r.detail_sha256 as string | null) ?? null);
        }
        const got = new Set<string>();
        const cols = [...SESSION_COLS, ...DETAIL_COLS];
        for (const part of chunks(fresh, 100)) {
          const rows = await q.all<Row>(
            `INSERT INTO sessions (${cols.join(', ')}) VALUES ${part.map(() => placeholders(cols.length)).join(', ')}
             ON CONFLICT (id) DO UPDATE SET ${[...UPDATABLE, ...DETAIL_COLS].map((c) => `${c} = excluded.${c}`).join(', ')}
             WHERE sessions.product = excluded.product AND ${DETAIL_NEWER}
             RETURNING id`,
            part.flatMap((s) => [...sessionValues(s.session, 'package', pkg.id), ...detailValues(s.detail)]),
          );
          for (const r of rows) got.add(r.id as string);
        }
        await replaceContext(
          q,
          got,
          fresh.map((s) => s.session.summary),
        );
        await q.run(
          `INSERT INTO packages (id, product, received_at, created, creator, criteria, description, reply_to, session_ids, problems, problems_omitted)
           VALUES ${placeholders(11)} ON CONFLICT (id) DO NOTHING`,
          [
            pkg.id,
            pkg.product,
            int(pkg.receivedAt),
            int(pkg.created),
            JSON.stringify(pkg.creator),
            JSON.stringify(pkg.criteria),
            pkg.description ?? null,
            pkg.replyTo ?? null,
            JSON.stringify(pkg.sessionIds),
            pkg.problems && pkg.problems.length > 0 ? JSON.stringify(pkg.problems) : null,
            pkg.problemsOmitted ?? null,
          ],
        );
        // Blobs this request made unreferenced: the older detail it replaced, or its own that lost.
        const gone: string[] = [];
        for (const s of fresh) {
          const id = s.session.summary.id;
          const old = before.get(id) ?? undefined;
          const [kept, lost] = got.has(id) ? [s.detail.sha256, old] : [old, s.detail.sha256];
          if (lost !== undefined && lost !== kept) gone.push(lost);
        }
        return { stored: got, unreferenced: gone };
      });
      // Each is checked again under its lock: a concurrent request may have committed a row for it.
      await refs.removeUnreferenced(unreferenced);
      return ids.map((id): PackageReply['sessions'][number] => ({ id, stored: stored.has(id) ? 'new' : 'existing' }));
    },

    async discardUpload(id, at) {
      await db.run(`UPDATE uploads SET state = 'expired', expires_at = ? WHERE id = ? AND state = 'open'`, [int(at), id]);
    },

    async expireUploads(at) {
      const rows = await db.all<Row>(`UPDATE uploads SET state = 'expired' WHERE state = 'open' AND expires_at < ? RETURNING *`, [int(at)]);
      return rows.map(rowToUpload);
    },

    async purgeUploads(before) {
      return db.run(`DELETE FROM uploads WHERE state <> 'open' AND COALESCE(completed_at, expires_at) < ?`, [int(before)]);
    },

    async productStoredBytes(product) {
      // The same sum as retention's (triage-store.ts retentionCandidates), so the two agree.
      const rows = await db.all<Row>(`SELECT COALESCE(SUM(COALESCE(detail_compressed, 0) + LENGTH(summary)), 0) AS n FROM sessions WHERE product = ?`, [
        product,
      ]);
      return Number(rows[0]?.n ?? 0);
    },

    async productUploadBytes(product, at) {
      const rows = await db.all<Row>(`SELECT COALESCE(SUM(length), 0) AS n FROM uploads WHERE state = 'open' AND expires_at > ? AND product = ?`, [
        int(at),
        product,
      ]);
      return Number(rows[0]?.n ?? 0);
    },

    async listSessions(q) {
      const { where, params } = filters(q);
      if (q.cursor !== undefined) {
        const c = decodeCursor(q.cursor);
        if (!c) throw new StoreError('bad cursor');
        where.push('(started_at < ? OR (started_at = ? AND id < ?))');
        params.push(c.startedAt, c.startedAt, c.id);
      }
      const rows = await db.all<Row>(`SELECT * FROM sessions ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY started_at DESC, id DESC LIMIT ?`, [
        ...params,
        q.limit + 1,
      ]);
      const page = rows.slice(0, q.limit).map(rowToSession);
      const last = page[page.length - 1];
      return rows.length > q.limit && last ? { sessions: page, next: encodeCursor(last.startedAt, last.summary.id) } : { sessions: page };
    },

    async countsOverTime(q) {
      const { bucketMs: _b, ...filter } = q;
      const { where, params } = filters(filter);
      const rows = await db.all<Row>(
        `SELECT CAST((started_at - ?) / ? AS BIGINT) AS b, COUNT(*) AS sessions,
                SUM(CASE WHEN status = 'crashed' THEN 1 ELSE 0 END) AS crashed,
                ${SEVERITIES.map((s) => `SUM(n_${s}) AS ${s}`).join(', ')}
         FROM sessions WHERE ${where.join(' AND ')} GROUP BY b ORDER BY b`,
        [Math.round(q.from), q.bucketMs, ...params],
      );
      const n = Math.ceil((q.to - q.from) / q.bucketMs);
      const buckets: CountsBucket[] = Array.from({ length: n }, (_, i) => ({
        start: q.from + i * q.bucketMs,
        sessions: 0,
        crashed: 0,
        counts: emptyCounts(),
      }));
      for (const r of rows) {
        const b = buckets[num(r.b)];
        if (!b) continue;
        b.sessions = num(r.sessions);
        b.crashed = num(r.crashed);
        for (const s of SEVERITIES) b.counts[s] = num(r[s]);
      }
      return { bucketMs: q.bucketMs, from: q.from, to: q.to, buckets };
    },

    async listPackages(limit) {
      const rows = await db.all<Row>(`SELECT * FROM packages ORDER BY received_at DESC, id DESC LIMIT ?`, [limit]);
      return rows.map(rowToPackage);
    },

    async ping() {
      await db.all(`SELECT 1 AS ok`);
    },

    close: () => db.close(),
  };
};
