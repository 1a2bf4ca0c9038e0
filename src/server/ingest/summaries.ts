import type { Context } from 'hono';
import { PATHS, type SummariesReply, type SummaryDecision } from '../../shared/protocol.js';
import { clockOffset } from '../clock.js';
import type { CollectorConfig } from '../config.js';
import type { AppEnv } from '../env.js';
import { ApiError, FieldError, fieldRefusal } from '../errors.js';
import type { Logger } from '../log.js';
import { mediaType, readBody } from '../middleware/body.js';
import { decideDetail } from '../policy.js';
import type { Store } from '../store/types.js';
import { checkSummariesRequest } from '../validate/summary.js';
import type { Uploads } from './uploads.js';

/** Parses a JSON body, naming the problem in a 400 (shared by the JSON endpoints). */
export const parseJson = (raw: Buffer, what: string): unknown => {
  try {
    return JSON.parse(raw.toString('utf8'));
  } catch {
    throw new ApiError(400, 'malformed-json', `${what} is not valid JSON`);
  }
};

export interface SummariesDeps {
  config: CollectorConfig;
  store: Store;
  uploads: Uploads;
  now: () => number;
  log?: Logger;
}

/**
 * `POST /sessions/summaries`: validate, remember (idempotent by session id), decide per session
 * by the product's policy, and offer any open upload with its offset so the agent can resume.
 */
export const summariesHandler =
  (d: SummariesDeps) =>
  async (c: Context<AppEnv>): Promise<Response> => {
    const key = c.get('ingest');
    const receivedAt = d.now();
    if (mediaType(c) !== 'application/json') throw new ApiError(415, 'unsupported-media-type', 'Content-Type must be application/json');
    const raw = await readBody(c, d.config.limits.summariesBodyBytes, 'summaries body');
    const body = parseJson(raw, 'summaries body');
    const max = d.config.limits.summariesPerRequest;
    // Too many summaries is a limit like the body's bytes: 413, as every `limits.*` answers. The
    // field stays `sessions`, so agents that split only on a 400 naming it split on this too.
    const sessions = (body as { sessions?: unknown } | null)?.sessions;
    if (Array.isArray(sessions) && sessions.length > max)
      throw new ApiError(413, 'too-large', `sessions: ${sessions.length} summaries, the limit is ${max} per request`, {}, 'sessions');
    let req;
    try {
      req = checkSummariesRequest(body, max);
    } catch (e) {
      if (e instanceof FieldError) throw fieldRefusal(e);
      throw e;
    }
    if (req.product !== key.product) throw new ApiError(403, 'product-mismatch', `this ingest key belongs to product "${key.product}", not "${req.product}"`);

    const offset = clockOffset(receivedAt, req.sentAt, d.config.clockSkewThresholdMs, d.config.limits.maxClockOffsetMs);
    const dropped = req.extra.reduce((n, x) => n + x.dropped, 0);
    if (dropped > 0) d.log?.warn('unknown summary fields dropped over the bound', { product: req.product, dropped });
    const states = await d.store.saveSummaries(
      req.sessions.map((s, i) => ({
        summary: s,
        ...(req.extra[i]?.fields ? { extra: req.extra[i].fields } : {}),
        startedAt: s.startedAt + offset,
        ...(s.endedAt !== undefined ? { endedAt: s.endedAt + offset } : {}),
        clockOffsetMs: offset,
        receivedAt,
        sentAt: req.sentAt,
      })),
    );
    const decisions: SummaryDecision[] = req.sessions.map((s, i) => ({
      id: s.id,
      // Stored detail is asked for again only when this summary goes past it (a session first
      // sent while running); otherwise "not-wanted" also means "already received".
      detail:
        states[i].hasDetail && !(states[i].detailLastSeq !== undefined && s.lastSeq > states[i].detailLastSeq!) ? 'not-wanted' : decideDetail(key.policy, s),
    }));
    const wanted = decisions.filter((x) => x.detail === 'wanted').map((x) => x.id);
    if (wanted.length > 0) {
      const open = await d.store.openUploads(wanted);
      for (const x of decisions) {
        const u = open.get(x.id);
        if (!u || u.expiresAt <= receivedAt) continue;
        const offsetNow = await d.uploads.offsetOf(u.id);
        if (offsetNow !== undefined && offsetNow < u.length) x.upload = { url: d.uploads.urlOf(c.req.raw, u.id), offset: offsetNow, sha256: u.sha256 };
      }
    }
    const reply: SummariesReply = { sessions: decisions };
    return c.json(reply, 200, { 'Cache-Control': 'no-store' });
  };

export const SUMMARIES_PATH = PATHS.summaries;
