/**
 * The triage and lifecycle half of the SQL store (types.ts TriageStore): exception groups, search
 * entries, deletion and retention. Same SQL on SQLite and PostgreSQL except the search index
 * (FTS5 there, tsvector here) and row locks, which only PostgreSQL needs.
 */
import type { ExceptionGroup, GroupSession, SearchHit, StoredSession } from '../../shared/protocol.js';
import { SEVERITIES, type Severity, severityRank } from '../../shared/severity.js';
import type { GroupHit, SearchDoc } from '../triage/session-index.js';
import { createBlobRefs } from './blob-refs.js';
import type { BlobStore } from './blobs.js';
import type { Db, Queryable, SqlValue } from './db.js';
import { type SessionFilter, StoreError, type TriageStore } from './types.js';

type Row = Record<string, unknown>;
const num = (v: unknown): number => (typeof v === 'number' ? v : Number(v));
const inList = (n: number): string => `(${Array(n).fill('?').join(', ')})`;
const chunks = <T>(items: readonly T[], size: number): T[][] => {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
};
const RANK_TO_SEVERITY = new Map<number, Severity>(SEVERITIES.map((s) => [severityRank(s), s]));
const severityOf = (rank: unknown): Severity => RANK_TO_SEVERITY.get(num(rank)) ?? 'error';

/** Rows per multi-row INSERT: well under SQLite's 32,766 bound parameters. */
const ROWS = 200;
const IDS = 500;

export const encodeSearchCursor = (time: number, id: number): string => Buffer.from(`${time}:${id}`).toString('base64url');
export const decodeSearchCursor = (c: string): { time: number; id: number } | undefined => {
  const m = /^(-?\d{1,16}):(\d{1,16})$/.exec(Buffer.from(c, 'base64url').toString());
  return m ? { time: Number(m[1]), id: Number(m[2]) } : undefined;
};

/** A PostgreSQL array literal of numbers or strings (every string quoted and escaped). */
const pgArray = (xs: readonly (string | number)[]): string =>
  `{${xs.map((x) => (typeof x === 'number' ? String(x) : `"${x.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`)).join(',')}}`;

export interface TriageDeps {
  db: Db;
  blobs: BlobStore;
  /** The session list's WHERE clauses (unqualified `sessions` columns). */
  filters(f: SessionFilter): { where: string[]; params: SqlValue[] };
  rowToSession(r: Row): StoredSession;
}

export const createTriageStore = ({ db, blobs, filters, rowToSession }: TriageDeps): TriageStore => {
  const pg = db.dialect === 'postgres';
  const forUpdate = pg ? ' FOR UPDATE' : '';
  const refs = createBlobRefs(db, blobs);

  /** Removes the sessions' group shares and search entries, and recounts the groups they touched. */
  const removeIndex = async (q: Queryable, ids: readonly string[]): Promise<void> => {
    for (const part of chunks(ids, IDS)) {
      const touched = await q.all<Row>(`SELECT DISTINCT group_id FROM group_sessions WHERE session_id IN ${inList(part.length)}`, part);
      if (pg) await q.run(`DELETE FROM search_docs WHERE session_id IN ${inList(part.length)}`, part);
      else {
        await q.run(`DELETE FROM search_fts WHERE rowid IN (SELECT id FROM search_docs WHERE session_id IN ${inList(part.length)})`, part);
        await q.run(`DELETE FROM search_docs WHERE session_id IN ${inList(part.length)}`, part);
      }
      if (touched.length === 0) continue;
      await q.run(`DELETE FROM group_sessions WHERE session_id IN ${inList(part.length)}`, part);
      // Sorted, so concurrent transactions lock groups in one order (no deadlock on PostgreSQL).
      const groups = touched.map((r) => r.group_id as string).sort();
      for (const gpart of chunks(groups, IDS)) {
        const sub = (expr: string): string => `(SELECT ${expr} FROM group_sessions g WHERE g.group_id = exception_groups.id)`;
        const pick = `(SELECT g.session_id FROM group_sessions g WHERE g.group_id = exception_groups.id ORDER BY g.last_seen DESC, g.session_id LIMIT 1)`;
        await q.run(
          `UPDATE exception_groups SET hits = COALESCE(${sub('SUM(hits)')}, 0), sessions = ${sub('COUNT(*)')},
             first_seen = COALESCE(${sub('MIN(first_seen)')}, first_seen), last_seen = COALESCE(${sub('MAX(last_seen)')}, last_seen),
             example_session = COALESCE(${pick}, example_session),
             example_seq = COALESCE((SELECT g.first_seq FROM group_sessions g WHERE g.group_id = exception_groups.id AND g.session_id = ${pick}), example_seq)
           WHERE id IN ${inList(gpart.length)}`,
          gpart,
        );
        await q.run(`DELETE FROM exception_groups WHERE sessions = 0 AND id IN ${inList(gpart.length)}`, gpart);
      }
    }
  };

  const insertDocs = async (q: Queryable, sessionId: string, docs: readonly SearchDoc[]): Promise<void> => {
    if (pg) {
      // One statement per 5,000 rows, columns as arrays: far fewer bind parameters to parse than
      // multi-row VALUES (PostgreSQL's tsvector and GIN work is the same either way).
      for (const part of chunks(docs, 5000))
        await q.run(
          `INSERT INTO search_docs (session_id, seq, time, severity, category, text, terms)
           SELECT ?, d.seq, d.time, d.severity, d.category, d.text, to_tsvector('simple', d.terms)
           FROM unnest(?::bigint[], ?::bigint[], ?::int[], ?::text[], ?::text[], ?::text[]) AS d(seq, time, severity, category, text, terms)`,
          [
            sessionId,
            pgArray(part.map((d) => d.seq)),
            pgArray(part.map((d) => Math.round(d.time))),
            pgArray(part.map((d) => d.severity)),
            pgArray(part.map((d) => d.category)),
            pgArray(part.map((d) => d.text)),
            pgArray(part.map((d) => d.terms)),
          ],
        );
      return;
    }
    // One writer on SQLite: ids after the current maximum are free for this transaction.
    const [top] = await q.all<Row>(`SELECT COALESCE(MAX(id), 0) AS id FROM search_docs`);
    let id = num(top?.id);
    for (const part of chunks(docs, ROWS)) {
      const first = id + 1;
      await q.run(
        `INSERT INTO search_docs (id, session_id, seq, time, severity, category, text) VALUES ${part.map(() => inList(7)).join(', ')}`,
        part.flatMap((d) => [++id, sessionId, d.seq, Math.round(d.time), d.severity, d.category, d.text]),
      );
      await q.run(
        `INSERT INTO search_fts (rowid, terms) VALUES ${part.map(() => '(?, ?)').join(', ')}`,
        part.flatMap((d, i) => [first + i, d.terms]),
      );
    }
  };

  const insertGroups = async (q: Queryable, sessionId: string, product: string, hits: readonly GroupHit[]): Promise<void> => {
    const sorted = [...hits].sort((a, b) => (a.id < b.id ? -1 : 1));
    for (const part of chunks(sorted, ROWS)) {
      await q.run(
        `INSERT INTO exception_groups (id, product, name, title, worst, example_session, example_seq, first_seen, last_seen, hits, sessions)
         VALUES ${part.map(() => inList(11)).join(', ')}
         ON CONFLICT (id) DO UPDATE SET hits = exception_groups.hits + excluded.hits, sessions = exception_groups.sessions + 1,
           first_seen = CASE WHEN excluded.first_seen < exception_groups.first_seen THEN excluded.first_seen ELSE exception_groups.first_seen END,
           last_seen = CASE WHEN excluded.last_seen > exception_groups.last_seen THEN excluded.last_seen ELSE exception_groups.last_seen END,
           worst = CASE WHEN excluded.worst > exception_groups.worst THEN excluded.worst ELSE exception_groups.worst END`,
        part.flatMap((g) => [g.id, product, g.name, g.title, g.worst, sessionId, g.firstSeq, Math.round(g.firstSeen), Math.round(g.lastSeen), g.hits, 1]),
      );
      await q.run(
        `INSERT INTO group_sessions (group_id, session_id, hits, first_seen, last_seen, first_seq, example_text, example_stack)
         VALUES ${part.map(() => inList(8)).join(', ')}`,
        part.flatMap((g) => [g.id, sessionId, g.hits, Math.round(g.firstSeen), Math.round(g.lastSeen), g.firstSeq, g.exampleText, g.exampleStack ?? null]),
      );
    }
  };

  /** Session filters over `sessions` joined as `sessions`, for groups (through group_sessions) and search. */
  const sessionWhere = (f: SessionFilter): { where: string[]; params: SqlValue[] } => {
    const { product: _p, ...rest } = f;
    return filters(rest);
  };

  const hasSessionFilter = (f: SessionFilter): boolean =>
    f.application !== undefined ||
    f.version !== undefined ||
    f.environment !== undefined ||
    f.user !== undefined ||
    f.installation !== undefined ||
    (f.context?.length ?? 0) > 0;

  const decorate = async (rows: Row[], sparkFrom: number, bucketMs: number, buckets: number): Promise<ExceptionGroup[]> => {
    if (rows.length === 0) return [];
    const ids = rows.map((r) => r.id as string);
    const lists = await db.all<Row>(
      `SELECT g.group_id, sessions.application, sessions.version, sessions.environment
       FROM group_sessions g JOIN sessions ON sessions.id = g.session_id
       WHERE g.group_id IN ${inList(ids.length)} GROUP BY g.group_id, sessions.application, sessions.version, sessions.environment`,
      ids,
    );
    const users = await db.all<Row>(
      `SELECT g.group_id, COUNT(DISTINCT sessions.user_id) AS n FROM group_sessions g JOIN sessions ON sessions.id = g.session_id
       WHERE g.group_id IN ${inList(ids.length)} GROUP BY g.group_id`,
      ids,
    );
    const examples = await db.all<Row>(
      `SELECT g.group_id, g.example_text, g.example_stack FROM group_sessions g JOIN exception_groups e ON e.id = g.group_id AND e.example_session = g.session_id
       WHERE g.group_id IN ${inList(ids.length)}`,
      ids,
    );
    const spark = await db.all<Row>(
      `SELECT group_id, CAST((first_seen - ?) / ? AS BIGINT) AS b, SUM(hits) AS n FROM group_sessions
       WHERE group_id IN ${inList(ids.length)} AND first_seen >= ? GROUP BY group_id, b`,
      [sparkFrom, bucketMs, ...ids, sparkFrom],
    );
    const byId = new Map<string, ExceptionGroup>();
    const sets = new Map<string, { a: Set<string>; v: Set<string>; e: Set<string> }>();
    const out = rows.map((r): ExceptionGroup => {
      const g: ExceptionGroup = {
        id: r.id as string,
        product: r.product as string,
        name: r.name as string,
        title: r.title as string,
        worst: severityOf(r.worst),
        hits: num(r.hits),
        sessions: num(r.sessions),
        users: 0,
        firstSeen: num(r.first_seen),
        lastSeen: num(r.last_seen),
        example: { sessionId: r.example_session as string, seq: num(r.example_seq), text: '' },
        applications: [],
        versions: [],
        environments: [],
        spark: Array(buckets).fill(0),
      };
      byId.set(g.id, g);
      sets.set(g.id, { a: new Set(), v: new Set(), e: new Set() });
      return g;
    });
    for (const l of lists) {
      const s = sets.get(l.group_id as string);
      if (!s) continue;
      s.a.add(l.application as string);
      s.v.add(l.version as string);
      if (l.environment !== null && l.environment !== undefined) s.e.add(l.environment as string);
    }
    for (const [id, s] of sets) {
      const g = byId.get(id)!;
      // Bounded: a group seen in thousands of versions shows the first few (the session list has all).
      g.applications = [...s.a].sort().slice(0, 20);
      g.versions = [...s.v].sort().slice(0, 20);
      g.environments = [...s.e].sort().slice(0, 20);
    }
    for (const u of users) {
      const g = byId.get(u.group_id as string);
      if (g) g.users = num(u.n);
    }
    for (const e of examples) {
      const g = byId.get(e.group_id as string);
      if (!g) continue;
      g.example.text = e.example_text as string;
      if (typeof e.example_stack === 'string') g.example.stack = e.example_stack;
    }
    for (const s of spark) {
      const g = byId.get(s.group_id as string);
      const b = num(s.b);
      if (g && b >= 0 && b < buckets) g.spark[b] = num(s.n);
    }
    return out;
  };

  const removeBlobs = async (shas: readonly string[]): Promise<void> => {
    for (const sha of shas) {
      // A deleted session's content that came back (the agent sent it again) keeps its blob;
      // checked under the blob's lock, so a request committing it right now keeps it too.
      await refs.removeUnreferenced([sha]);
      await db.run(`DELETE FROM blob_deletions WHERE sha256 = ?`, [sha]);
    }
  };

  return {
    async indexSession(index) {
      return db.tx(async (q) => {
        const rows = await q.all<Row>(`SELECT product, detail_sha256 FROM sessions WHERE id = ?${forUpdate}`, [index.sessionId]);
        const row = rows[0];
        if (!row || row.detail_sha256 !== index.sha256) return false;
        await removeIndex(q, [index.sessionId]);
        await insertDocs(q, index.sessionId, index.docs);
        await insertGroups(q, index.sessionId, row.product as string, index.groups);
        await q.run(`UPDATE sessions SET indexed_sha256 = ? WHERE id = ?`, [index.sha256, index.sessionId]);
        return true;
      });
    },

    async sessionsToIndex(limit) {
      const rows = await db.all<Row>(
        `SELECT id, product, detail_sha256, clock_offset_ms FROM sessions
         WHERE detail_sha256 IS NOT NULL AND (indexed_sha256 IS NULL OR indexed_sha256 <> detail_sha256)
         ORDER BY detail_at, id LIMIT ?`,
        [limit],
      );
      return rows.map((r) => ({ id: r.id as string, product: r.product as string, sha256: r.detail_sha256 as string, clockOffsetMs: num(r.clock_offset_ms) }));
    },

    async listGroups(q) {
      const where: string[] = [];
      const params: SqlValue[] = [];
      if (q.product !== undefined) {
        where.push('e.product = ?');
        params.push(q.product);
      }
      if (q.seenSince !== undefined) {
        where.push('e.last_seen >= ?');
        params.push(Math.round(q.seenSince));
      }
      if (hasSessionFilter(q)) {
        const f = sessionWhere(q);
        where.push(`EXISTS (SELECT 1 FROM group_sessions g JOIN sessions ON sessions.id = g.session_id WHERE g.group_id = e.id AND ${f.where.join(' AND ')})`);
        params.push(...f.params);
      }
      const order = q.sort === 'hits' ? 'e.hits DESC, e.id' : q.sort === 'sessions' ? 'e.sessions DESC, e.id' : 'e.last_seen DESC, e.id';
      const rows = await db.all<Row>(
        `SELECT e.* FROM exception_groups e ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY ${order} LIMIT ? OFFSET ?`,
        [...params, q.limit + 1, q.offset],
      );
      const sparkFrom = q.now - q.sparkBuckets * q.sparkBucketMs;
      const groups = await decorate(rows.slice(0, q.limit), sparkFrom, q.sparkBucketMs, q.sparkBuckets);
      return rows.length > q.limit
        ? { groups, sparkFrom, sparkBucketMs: q.sparkBucketMs, next: q.offset + q.limit }
        : { groups, sparkFrom, sparkBucketMs: q.sparkBucketMs };
    },

    async getGroup(id, o) {
      const rows = await db.all<Row>(`SELECT * FROM exception_groups WHERE id = ?`, [id]);
      if (!rows[0]) return undefined;
      const n = Math.max(1, Math.ceil((o.to - o.from) / o.bucketMs));
      const [group] = await decorate(rows, o.now - 30 * 24 * 3600_000, 24 * 3600_000, 30);
      const sess = await db.all<Row>(
        `SELECT sessions.*, g.hits AS g_hits, g.first_seen AS g_first, g.last_seen AS g_last, g.first_seq AS g_seq
         FROM group_sessions g JOIN sessions ON sessions.id = g.session_id WHERE g.group_id = ? ORDER BY g.last_seen DESC, g.session_id LIMIT ?`,
        [id, o.limit],
      );
      const counts = await db.all<Row>(
        `SELECT CAST((first_seen - ?) / ? AS BIGINT) AS b, SUM(hits) AS hits, COUNT(*) AS sessions FROM group_sessions
         WHERE group_id = ? AND first_seen >= ? AND first_seen < ? GROUP BY b`,
        [Math.round(o.from), o.bucketMs, id, Math.round(o.from), Math.round(o.to)],
      );
      const hits = Array(n).fill(0);
      const sessions = Array(n).fill(0);
      for (const c of counts) {
        const b = num(c.b);
        if (b < 0 || b >= n) continue;
        hits[b] = num(c.hits);
        sessions[b] = num(c.sessions);
      }
      return {
        group: group!,
        sessions: sess.map(
          (r): GroupSession => ({ session: rowToSession(r), hits: num(r.g_hits), firstSeen: num(r.g_first), lastSeen: num(r.g_last), firstSeq: num(r.g_seq) }),
        ),
        counts: { from: o.from, bucketMs: o.bucketMs, hits, sessions },
      };
    },

    async searchMessages(q) {
      if (q.terms.length === 0) throw new StoreError('a search needs at least one term');
      const where: string[] = [];
      const params: SqlValue[] = [];
      if (pg) {
        where.push(`d.terms @@ to_tsquery('simple', ?)`);
        params.push(q.terms.map((t) => `${t}:*`).join(' & '));
      } else {
        where.push('search_fts MATCH ?');
        params.push(q.terms.map((t) => `"${t}"*`).join(' '));
      }
      if (q.product !== undefined) {
        where.push('sessions.product = ?');
        params.push(q.product);
      }
      const f = sessionWhere(q);
      where.push(...f.where);
      params.push(...f.params);
      if (q.minSeverity !== undefined) {
        where.push('d.severity >= ?');
        params.push(severityRank(q.minSeverity));
      }
      if (q.from !== undefined) {
        where.push('d.time >= ?');
        params.push(Math.round(q.from));
      }
      if (q.to !== undefined) {
        where.push('d.time < ?');
        params.push(Math.round(q.to));
      }
      if (q.cursor !== undefined) {
        const c = decodeSearchCursor(q.cursor);
        if (!c) throw new StoreError('bad cursor');
        where.push('(d.time < ? OR (d.time = ? AND d.id < ?))');
        params.push(c.time, c.time, c.id);
      }
      const from = pg ? 'search_docs d' : 'search_fts JOIN search_docs d ON d.id = search_fts.rowid';
      const rows = await db.all<Row>(
        `SELECT d.id, d.session_id, d.seq, d.time, d.severity, d.category, d.text, sessions.product, sessions.application, sessions.version
         FROM ${from} JOIN sessions ON sessions.id = d.session_id
         WHERE ${where.join(' AND ')} ORDER BY d.time DESC, d.id DESC LIMIT ?`,
        [...params, q.limit + 1],
      );
      const hits = rows.slice(0, q.limit).map(
        (r): SearchHit => ({
          sessionId: r.session_id as string,
          seq: num(r.seq),
          time: num(r.time),
          severity: severityOf(r.severity),
          category: r.category as string,
          text: r.text as string,
          product: r.product as string,
          application: r.application as string,
          version: r.version as string,
        }),
      );
      const last = rows[q.limit - 1];
      return rows.length > q.limit && last ? { hits, next: encodeSearchCursor(num(last.time), num(last.id)) } : { hits };
    },

    async selectSessions(sel, limit) {
      const f = filters({
        ...(sel.product !== undefined ? { product: sel.product } : {}),
        ...(sel.user !== undefined ? { user: sel.user } : {}),
        ...(sel.installation !== undefined ? { installation: sel.installation } : {}),
      });
      if (f.where.length === 0 || (sel.user === undefined && sel.installation === undefined))
        throw new StoreError('a deletion names a user or an installation');
      const rows = await db.all<Row>(`SELECT id FROM sessions WHERE ${f.where.join(' AND ')} ORDER BY id LIMIT ?`, [...f.params, limit]);
      return rows.map((r) => r.id as string);
    },

    async retentionCandidates(product, limits, limit) {
      const out = new Set<string>();
      if (limits.receivedBefore !== undefined) {
        const rows = await db.all<Row>(`SELECT id FROM sessions WHERE product = ? AND received_at < ? ORDER BY received_at, id LIMIT ?`, [
          product,
          Math.round(limits.receivedBefore),
          limit,
        ]);
        for (const r of rows) out.add(r.id as string);
      }
      if (limits.maxBytes !== undefined && out.size < limit) {
        // Newest first, each session's stored bytes added up: those past the limit go.
        const rows = await db.all<Row>(
          `SELECT id FROM (SELECT id, received_at,
             SUM(COALESCE(detail_compressed, 0) + LENGTH(summary)) OVER (ORDER BY received_at DESC, id DESC ROWS UNBOUNDED PRECEDING) AS kept
             FROM sessions WHERE product = ?) t
           WHERE kept > ? ORDER BY received_at, id LIMIT ?`,
          [product, limits.maxBytes, limit],
        );
        for (const r of rows) if (out.size < limit) out.add(r.id as string);
      }
      return [...out];
    },

    async deleteOldPackages(product, before) {
      return db.run(`DELETE FROM packages WHERE product = ? AND received_at < ?`, [product, Math.round(before)]);
    },

    async storedProducts() {
      const rows = await db.all<Row>(`SELECT product FROM sessions UNION SELECT product FROM packages`);
      return rows.map((r) => r.product as string).sort();
    },

    async deleteSessions(ids) {
      const unique = [...new Set(ids)];
      const deleted: string[] = [];
      const shas: string[] = [];
      for (const part of chunks(unique, IDS)) {
        await db.tx(async (q) => {
          const rows = await q.all<Row>(`SELECT id, detail_sha256 FROM sessions WHERE id IN ${inList(part.length)}${forUpdate}`, part);
          if (rows.length === 0) return;
          const found = rows.map((r) => r.id as string);
          const gone = rows.map((r) => r.detail_sha256).filter((s): s is string => typeof s === 'string');
          await removeIndex(q, found);
          await q.run(`DELETE FROM session_context WHERE session_id IN ${inList(found.length)}`, found);
          // An open upload stays: it expires (and its file goes) on the upload schedule, and if it
          // completes its detail is refused, the session being unknown.
          await q.run(`DELETE FROM uploads WHERE state <> 'open' AND session_id IN ${inList(found.length)}`, found);
          const pkgs = await q.all<Row>(
            `SELECT id, session_ids FROM packages WHERE ${found.map(() => 'session_ids LIKE ?').join(' OR ')}${forUpdate}`,
            found.map((id) => `%"${id}"%`),
          );
          const goneIds = new Set(found);
          for (const p of pkgs) {
            const left = (JSON.parse(p.session_ids as string) as string[]).filter((id) => !goneIds.has(id));
            if (left.length === 0) await q.run(`DELETE FROM packages WHERE id = ?`, [p.id as string]);
            else await q.run(`UPDATE packages SET session_ids = ? WHERE id = ?`, [JSON.stringify(left), p.id as string]);
          }
          await q.run(`DELETE FROM sessions WHERE id IN ${inList(found.length)}`, found);
          for (const sp of chunks(gone, ROWS))
            await q.run(
              `INSERT INTO blob_deletions (sha256, at) VALUES ${sp.map(() => '(?, ?)').join(', ')} ON CONFLICT (sha256) DO NOTHING`,
              sp.flatMap((s) => [s, Date.now()]),
            );
          deleted.push(...found);
          shas.push(...gone);
        });
      }
      await removeBlobs(shas);
      return { ids: deleted, blobs: shas };
    },

    async flushBlobDeletions() {
      const rows = await db.all<Row>(`SELECT sha256 FROM blob_deletions ORDER BY at LIMIT 10000`);
      await removeBlobs(rows.map((r) => r.sha256 as string));
      return rows.length;
    },
  };
};
