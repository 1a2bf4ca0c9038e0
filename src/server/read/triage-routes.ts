/**
 * Read API for triage (exception groups, search across sessions) and the admin deletion and
 * retention endpoints (docs/server.md). Mounted beside routes.ts under the same admin auth.
 */
import { Hono } from 'hono';
import { CONTEXT_LIMITS, tokenProblem } from '../../shared/context.js';
import { UUID_RE } from '../../shared/ids.js';
import type { DeleteReply, RetentionReply } from '../../shared/protocol.js';
import type { CollectorConfig } from '../config.js';
import { ApiError } from '../errors.js';
import type { Logger } from '../log.js';
import { runRetention } from '../retention.js';
import { decodeSearchCursor } from '../store/triage-store.js';
import type { SearchQuery, SessionSelector, Store } from '../store/types.js';
import { MAX_QUERY_TERMS, queryTerms } from '../triage/search-terms.js';
import type { MessageReader } from './messages.js';
import { integer, invalid, type Query, sessionFilter, severity, text } from './routes.js';

const DAY = 24 * 3600_000;
const HOUR = 3600_000;
const GROUP_ID_RE = /^[0-9a-f]{32}$/;
const MAX_BUCKETS = 1000;
/** Sessions one deletion request may remove (an installation with more is deleted by repeating it). */
export const MAX_DELETE = 100_000;

export interface TriageDeps {
  store: Store;
  messages: MessageReader;
  config: CollectorConfig;
  log: Logger;
  now: () => number;
}

export const triageRoutes = (d: TriageDeps): Hono => {
  const app = new Hono();

  app.get('/groups', async (c) => {
    const q: Query = (n) => c.req.query(n);
    const sort = text(q, 'sort') ?? 'recent';
    if (sort !== 'hits' && sort !== 'sessions' && sort !== 'recent') throw invalid('sort', 'must be hits, sessions or recent');
    const since = integer(q, 'since', 0, 8.64e15);
    return c.json(
      await d.store.listGroups({
        ...sessionFilter(c),
        sort,
        ...(since !== undefined ? { seenSince: since } : {}),
        limit: integer(q, 'limit', 1, 200) ?? 50,
        offset: integer(q, 'offset', 0, 100_000) ?? 0,
        now: d.now(),
        sparkBuckets: 14,
        sparkBucketMs: DAY,
      }),
    );
  });

  app.get('/groups/:id', async (c) => {
    const id = c.req.param('id');
    if (!GROUP_ID_RE.test(id)) throw new ApiError(404, 'not-found', 'no such group');
    const q: Query = (n) => c.req.query(n);
    const to = integer(q, 'to', 0, 8.64e15) ?? d.now();
    const from = integer(q, 'from', 0, 8.64e15) ?? to - 14 * DAY;
    if (from >= to) throw invalid('from', 'must be before to');
    const bucket = text(q, 'bucket');
    const bucketMs = bucket === undefined ? (to - from <= 2 * DAY ? HOUR : DAY) : bucket === 'hour' ? HOUR : bucket === 'day' ? DAY : -1;
    if (bucketMs < 0) throw invalid('bucket', 'must be hour or day');
    if ((to - from) / bucketMs > MAX_BUCKETS) throw invalid('bucket', `gives more than ${MAX_BUCKETS} buckets for this range`);
    const g = await d.store.getGroup(id, { limit: integer(q, 'limit', 1, 500) ?? 100, from, to, bucketMs, now: d.now() });
    if (!g) throw new ApiError(404, 'not-found', 'no such group');
    return c.json(g);
  });

  app.get('/search', async (c) => {
    const q: Query = (n) => c.req.query(n);
    const raw = text(q, 'q', 500);
    if (raw === undefined) throw invalid('q', 'is required (the words to find)');
    const terms = queryTerms(raw);
    if (terms.length === 0) throw invalid('q', 'has no letters or digits to search for');
    if (terms.length > MAX_QUERY_TERMS) throw invalid('q', `has more than ${MAX_QUERY_TERMS} words`);
    const cursor = text(q, 'cursor', 200);
    if (cursor !== undefined && !decodeSearchCursor(cursor)) throw invalid('cursor', 'is not a cursor from a previous page');
    const query: SearchQuery = { ...sessionFilter(c), terms, limit: integer(q, 'limit', 1, 500) ?? 50 };
    const min = severity(q, 'minSeverity');
    if (min) query.minSeverity = min;
    const from = integer(q, 'from', 0, 8.64e15);
    if (from !== undefined) query.from = from;
    const to = integer(q, 'to', 0, 8.64e15);
    if (to !== undefined) query.to = to;
    if (cursor !== undefined) query.cursor = cursor;
    return c.json(await d.store.searchMessages(query));
  });

  const remove = async (ids: string[]): Promise<DeleteReply> => {
    const gone = await d.store.deleteSessions(ids);
    for (const sha of gone.blobs) d.messages.forget(sha);
    return { deleted: gone.ids.length, sessionIds: gone.ids };
  };

  app.delete('/sessions/:id', async (c) => {
    const id = c.req.param('id');
    if (!UUID_RE.test(id)) throw new ApiError(404, 'not-found', 'no such session');
    const reply = await remove([id]);
    if (reply.deleted === 0) throw new ApiError(404, 'not-found', 'no such session');
    d.log.info('session deleted', { session: id });
    return c.json(reply);
  });

  app.delete('/sessions', async (c) => {
    const q: Query = (n) => c.req.query(n);
    for (const k of Object.keys(c.req.queries()))
      if (!['user', 'installation', 'product'].includes(k)) throw invalid(k, 'is not a deletion selector (user, installation, product)');
    const sel: SessionSelector = {};
    const user = text(q, 'user', CONTEXT_LIMITS.user.id);
    const installation = text(q, 'installation');
    const product = text(q, 'product');
    if (installation !== undefined) {
      const p = tokenProblem(installation);
      if (p) throw invalid('installation', p);
      sel.installation = installation;
    }
    if (user !== undefined) sel.user = user;
    if (product !== undefined) sel.product = product;
    if (user === undefined && installation === undefined)
      throw invalid('user', 'a deletion names user=<id> or installation=<id> (DELETE /sessions/<id> deletes one session)');
    const ids = await d.store.selectSessions(sel, MAX_DELETE);
    const reply = await remove(ids);
    d.log.info('sessions deleted on request', { ...sel, deleted: reply.deleted });
    return c.json(reply);
  });

  app.post('/retention', async (c) => {
    const reply: RetentionReply = { products: await runRetention({ ...d }) };
    return c.json(reply);
  });

  return app;
};
