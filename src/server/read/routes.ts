/**
 * The read API for the viewer (admin token required, see middleware/auth.ts): sessions with
 * filters and keyset pagination, one session's messages with filters, counts over time, packages.
 */
import { type Context, Hono } from 'hono';
import { CONTEXT_LIMITS, tokenProblem } from '../../shared/context.js';
import { UUID_RE } from '../../shared/ids.js';
import type { MessagesReply, PackageListReply, ViewedMessage } from '../../shared/protocol.js';
import { isSeverity, SEVERITIES, type Severity, severityRank } from '../../shared/severity.js';
import { ApiError } from '../errors.js';
import { decodeCursor } from '../store/sql-store.js';
import type { SessionFilter, SessionQuery, Store } from '../store/types.js';
import type { MessageReader } from './messages.js';

const DAY = 24 * 3600_000;
const HOUR = 3600_000;
const MAX_BUCKETS = 1000;

export const invalid = (name: string, detail: string): ApiError => new ApiError(400, 'invalid-field', `query parameter ${name}: ${detail}`);

export type Query = (name: string) => string | undefined;

export const text = (q: Query, name: string, max = 200): string | undefined => {
  const v = q(name);
  if (v === undefined || v === '') return undefined;
  if (v.length > max) throw invalid(name, `must have at most ${max} characters`);
  return v;
};

export const integer = (q: Query, name: string, min: number, max: number): number | undefined => {
  const v = q(name);
  if (v === undefined || v === '') return undefined;
  if (!/^-?\d{1,16}$/.test(v)) throw invalid(name, 'must be an integer');
  const n = Number(v);
  if (n < min || n > max) throw invalid(name, `must be between ${min} and ${max}`);
  return n;
};

export const severity = (q: Query, name: string): Severity | undefined => {
  const v = q(name);
  if (v === undefined || v === '') return undefined;
  if (!isSeverity(v)) throw invalid(name, `must be one of ${SEVERITIES.join(', ')}`);
  return v;
};

const token = (q: Query, name: string): string | undefined => {
  const v = text(q, name);
  const p = v === undefined ? undefined : tokenProblem(v);
  if (p) throw invalid(name, p);
  return v;
};

/** `context.<key>=<value>` parameters that one query may carry (each is one more EXISTS). */
export const MAX_CONTEXT_FILTERS = 10;
const CONTEXT_PREFIX = 'context.';

/**
 * The filters the session list and the counts share: product, application, version, environment,
 * user (id), installation, and `context.<key>=<value>` tags, all of which must match.
 */
export const sessionFilter = (c: Context): SessionFilter => {
  const q: Query = (n) => c.req.query(n);
  const f: SessionFilter = {};
  const set = <K extends keyof SessionFilter>(k: K, v: SessionFilter[K] | undefined): void => {
    if (v !== undefined) f[k] = v;
  };
  set('product', text(q, 'product'));
  set('application', text(q, 'application'));
  set('version', text(q, 'version'));
  set('environment', token(q, 'environment'));
  set('user', text(q, 'user', CONTEXT_LIMITS.user.id));
  set('installation', token(q, 'installation'));
  const context: [string, string][] = [];
  for (const [name, values] of Object.entries(c.req.queries())) {
    if (!name.startsWith(CONTEXT_PREFIX)) continue;
    const key = name.slice(CONTEXT_PREFIX.length);
    const p = tokenProblem(key);
    if (p) throw invalid(name, `the key ${p}`);
    if (values.length > 1) throw invalid(name, 'is given more than once (one value per key: every context filter must match)');
    if (values[0].length > CONTEXT_LIMITS.maxValueLength) throw invalid(name, `must have at most ${CONTEXT_LIMITS.maxValueLength} characters`);
    context.push([key, values[0]]);
  }
  if (context.length > MAX_CONTEXT_FILTERS) throw invalid(CONTEXT_PREFIX + '*', `at most ${MAX_CONTEXT_FILTERS} context filters per query`);
  if (context.length) f.context = context;
  return f;
};

export interface ReadDeps {
  store: Store;
  messages: MessageReader;
  now: () => number;
}

export const readRoutes = (d: ReadDeps): Hono => {
  const app = new Hono();

  app.get('/sessions', async (c) => {
    const q: Query = (n) => c.req.query(n);
    const status = text(q, 'status');
    if (status !== undefined && !['running', 'ended', 'crashed'].includes(status)) throw invalid('status', 'must be running, ended or crashed');
    const detail = text(q, 'detail');
    if (detail !== undefined && detail !== 'yes' && detail !== 'no') throw invalid('detail', 'must be yes or no');
    const cursor = text(q, 'cursor', 200);
    if (cursor !== undefined && !decodeCursor(cursor)) throw invalid('cursor', 'is not a cursor from a previous page');
    const query: SessionQuery = { ...sessionFilter(c), limit: integer(q, 'limit', 1, 500) ?? 50 };
    const set = <K extends keyof SessionQuery>(k: K, v: SessionQuery[K] | undefined): void => {
      if (v !== undefined) query[k] = v;
    };
    set('status', status as SessionQuery['status']);
    set('minSeverity', severity(q, 'minSeverity'));
    set('from', integer(q, 'from', 0, 8.64e15));
    set('to', integer(q, 'to', 0, 8.64e15));
    set('hasDetail', detail === undefined ? undefined : detail === 'yes');
    set('cursor', cursor);
    return c.json(await d.store.listSessions(query));
  });

  const sessionOr404 = async (id: string) => {
    if (!UUID_RE.test(id)) throw new ApiError(404, 'not-found', 'no such session');
    const s = await d.store.getSession(id);
    if (!s) throw new ApiError(404, 'not-found', 'no such session');
    return s;
  };

  app.get('/sessions/:id', async (c) => c.json(await sessionOr404(c.req.param('id'))));

  app.get('/sessions/:id/messages', async (c) => {
    const s = await sessionOr404(c.req.param('id'));
    const q: Query = (n) => c.req.query(n);
    const min = severity(q, 'minSeverity');
    const needle = text(q, 'q', 500)?.toLowerCase();
    const afterSeq = integer(q, 'afterSeq', 0, Number.MAX_SAFE_INTEGER) ?? 0;
    const limit = integer(q, 'limit', 1, 20_000) ?? 500;
    if (!s.detail) throw new ApiError(404, 'not-found', 'the messages of this session were not received');
    const all = await d.messages.read(s.detail.sha256);
    if (!all) throw new ApiError(404, 'not-found', 'the messages of this session are missing from storage');
    const minRank = min ? severityRank(min) : -1;
    const matches = all.filter(
      (m) =>
        severityRank(m.severity) >= minRank &&
        (needle === undefined ||
          m.text.toLowerCase().includes(needle) ||
          m.category.toLowerCase().includes(needle) ||
          (m.exception !== undefined && `${m.exception.name} ${m.exception.message}`.toLowerCase().includes(needle))),
    );
    const start = matches.findIndex((m) => m.seq > afterSeq);
    const page = start < 0 ? [] : matches.slice(start, start + limit);
    const messages: ViewedMessage[] = page.map((m) => ({ ...m, correctedTime: m.time + s.clockOffsetMs }));
    const reply: MessagesReply = { sessionId: s.summary.id, clockOffsetMs: s.clockOffsetMs, total: matches.length, messages };
    const last = page[page.length - 1];
    if (last && start + limit < matches.length) reply.next = last.seq;
    return c.json(reply);
  });

  app.get('/sessions/:id/detail', async (c) => {
    const s = await sessionOr404(c.req.param('id'));
    if (!s.detail) throw new ApiError(404, 'not-found', 'the messages of this session were not received');
    const gz = await d.store.blobs.read(s.detail.sha256);
    if (!gz) throw new ApiError(404, 'not-found', 'the messages of this session are missing from storage');
    return new Response(new Uint8Array(gz), {
      headers: {
        'content-type': 'application/gzip',
        'content-disposition': `attachment; filename="${s.summary.id}.ndjson.gz"`,
        'cache-control': 'no-store',
      },
    });
  });

  app.get('/counts', async (c) => {
    const q: Query = (n) => c.req.query(n);
    const to = integer(q, 'to', 0, 8.64e15) ?? d.now();
    const from = integer(q, 'from', 0, 8.64e15) ?? to - 7 * DAY;
    if (from >= to) throw invalid('from', 'must be before to');
    const b = text(q, 'bucket');
    let bucketMs: number;
    if (b === undefined) bucketMs = to - from <= 2 * DAY ? HOUR : DAY;
    else if (b === 'minute') bucketMs = 60_000;
    else if (b === 'hour') bucketMs = HOUR;
    else if (b === 'day') bucketMs = DAY;
    else if (/^\d{1,12}$/.test(b) && Number(b) >= 1000) bucketMs = Number(b);
    else throw invalid('bucket', 'must be minute, hour, day or milliseconds ≥ 1000');
    if ((to - from) / bucketMs > MAX_BUCKETS) throw invalid('bucket', `gives more than ${MAX_BUCKETS} buckets for this range`);
    return c.json(await d.store.countsOverTime({ ...sessionFilter(c), from, to, bucketMs }));
  });

  app.get('/packages', async (c) => {
    const limit = integer((n) => c.req.query(n), 'limit', 1, 500) ?? 50;
    const packages: PackageListReply['packages'] = await d.store.listPackages(limit);
    for (const p of packages) {
      const stored = (await Promise.all(p.sessionIds.map((id) => d.store.getSession(id)))).filter((s) => s !== undefined);
      p.storedSessions = stored.length;
      p.storedBytes = stored.reduce((n, s) => n + (s.detail?.compressedBytes ?? 0), 0);
    }
    const reply: PackageListReply = { packages };
    return c.json(reply);
  });

  return app;
};
