import { CONTEXT_LIMITS, type ContextValue, contextValueProblem, readUser, type SessionContext, type SessionUser, tokenProblem } from '../../shared/context.js';
import { UUID_RE } from '../../shared/ids.js';
import { LIMITS, type SummariesRequest } from '../../shared/protocol.js';
import { SEVERITIES, type SeverityCounts } from '../../shared/severity.js';
import type { LossAccounting, SessionSummary, StorageReset } from '../../shared/summary.js';
import { FieldError } from '../errors.js';
import { arr, at, bool, int, obj, oneOf, str, time } from './check.js';

/** Lengths the collector accepts for summary strings. */
export const SUMMARY_LIMITS = {
  product: 200,
  application: 200,
  version: 100,
  userAgent: 1024,
  url: 4096,
  agentVersion: 64,
} as const;

// `satisfies Record<keyof T, true>` keeps these lists in step with the shared types: a field added
// to SessionSummary without a check here fails to compile.
const SUMMARY_FIELDS = {
  id: true,
  product: true,
  application: true,
  version: true,
  status: true,
  startedAt: true,
  endedAt: true,
  counts: true,
  messageCount: true,
  lastSeq: true,
  bytes: true,
  userAgent: true,
  url: true,
  agentVersion: true,
  persistence: true,
  dropped: true,
  storageReset: true,
  environment: true,
  installationId: true,
  user: true,
  context: true,
  force: true,
} satisfies Record<keyof SessionSummary, true>;
const USER_FIELDS = { id: true, name: true, email: true } satisfies Record<keyof SessionUser, true>;
const LOSS_FIELDS = {
  beforeLog: true,
  overflow: true,
  pruned: true,
  prunedSessions: true,
  prunedMessages: true,
} satisfies Record<keyof LossAccounting, true>;
const RESET_FIELDS = { detectedAt: true, sessionsBefore: true, lastSessionStartedAt: true } satisfies Record<keyof StorageReset, true>;
const REQUEST_FIELDS = { product: true, sentAt: true, sessions: true } satisfies Record<keyof SummariesRequest, true>;

const keys = (o: object): string[] => Object.keys(o);

export const PRODUCT_RE = /^[A-Za-z0-9][A-Za-z0-9._:-]*$/;

const checkCounts = (v: unknown, field: string): SeverityCounts => {
  const o = obj(v, field, SEVERITIES);
  const out = {} as SeverityCounts;
  for (const s of SEVERITIES) out[s] = int(o[s], at(field, s));
  return out;
};

const checkLoss = (v: unknown, field: string): LossAccounting => {
  const o = obj(v, field, keys(LOSS_FIELDS));
  return {
    beforeLog: int(o.beforeLog, at(field, 'beforeLog')),
    overflow: int(o.overflow, at(field, 'overflow')),
    pruned: int(o.pruned, at(field, 'pruned')),
    prunedSessions: int(o.prunedSessions, at(field, 'prunedSessions')),
    prunedMessages: int(o.prunedMessages, at(field, 'prunedMessages')),
  };
};

const checkReset = (v: unknown, field: string): StorageReset => {
  const o = obj(v, field, keys(RESET_FIELDS));
  const r: StorageReset = {
    detectedAt: time(o.detectedAt, at(field, 'detectedAt')),
    sessionsBefore: int(o.sessionsBefore, at(field, 'sessionsBefore')),
  };
  if (o.lastSessionStartedAt !== undefined) r.lastSessionStartedAt = time(o.lastSessionStartedAt, at(field, 'lastSessionStartedAt'));
  return r;
};

/** An environment, installation id or context key (shared/context.ts). */
const token = (v: unknown, field: string): string => {
  const p = tokenProblem(v);
  if (p) throw new FieldError(field, p);
  return v as string;
};

const checkUser = (v: unknown, field: string): SessionUser => {
  obj(v, field, keys(USER_FIELDS));
  const u = readUser(v);
  if (typeof u === 'string') throw new FieldError(field, u);
  return u;
};

const checkContext = (v: unknown, field: string): SessionContext => {
  const o = obj(v, field);
  const entries = Object.entries(o);
  if (entries.length > CONTEXT_LIMITS.maxKeys) throw new FieldError(field, `must have at most ${CONTEXT_LIMITS.maxKeys} keys`);
  const out: SessionContext = {};
  for (const [k, value] of entries) {
    token(k, at(field, k));
    const p = contextValueProblem(value);
    if (p) throw new FieldError(at(field, k), p);
    out[k] = value as ContextValue;
  }
  return out;
};

/** Validates one summary completely (types, ranges, lengths, no unknown fields); returns a clean copy. */
export const checkSummary = (v: unknown, field: string): SessionSummary => {
  const o = obj(v, field, keys(SUMMARY_FIELDS));
  const f = (k: keyof SessionSummary): string => at(field, k);
  const s: SessionSummary = {
    id: str(o.id, f('id'), { max: 36, pattern: UUID_RE, patternName: 'a lowercase UUID' }),
    product: str(o.product, f('product'), { min: 1, max: SUMMARY_LIMITS.product, pattern: PRODUCT_RE, patternName: 'letters, digits and . _ : -' }),
    application: str(o.application, f('application'), { min: 1, max: SUMMARY_LIMITS.application }),
    version: str(o.version, f('version'), { max: SUMMARY_LIMITS.version }),
    status: oneOf(o.status, f('status'), ['running', 'ended', 'crashed'] as const),
    startedAt: time(o.startedAt, f('startedAt')),
    counts: checkCounts(o.counts, f('counts')),
    messageCount: int(o.messageCount, f('messageCount')),
    lastSeq: int(o.lastSeq, f('lastSeq')),
    bytes: int(o.bytes, f('bytes')),
    userAgent: str(o.userAgent, f('userAgent'), { max: SUMMARY_LIMITS.userAgent }),
    url: str(o.url, f('url'), { max: SUMMARY_LIMITS.url }),
    agentVersion: str(o.agentVersion, f('agentVersion'), { max: SUMMARY_LIMITS.agentVersion }),
    persistence: oneOf(o.persistence, f('persistence'), ['indexeddb', 'memory'] as const),
    dropped: checkLoss(o.dropped, f('dropped')),
  };
  if (o.endedAt !== undefined) s.endedAt = time(o.endedAt, f('endedAt'));
  if (o.storageReset !== undefined) s.storageReset = checkReset(o.storageReset, f('storageReset'));
  if (o.environment !== undefined) s.environment = token(o.environment, f('environment'));
  if (o.installationId !== undefined) s.installationId = token(o.installationId, f('installationId'));
  if (o.user !== undefined) s.user = checkUser(o.user, f('user'));
  if (o.context !== undefined) s.context = checkContext(o.context, f('context'));
  if (o.force !== undefined) s.force = bool(o.force, f('force'));
  return s;
};

/** Validates a `POST /sessions/summaries` body; throws FieldError naming the first bad field. */
export const checkSummariesRequest = (v: unknown, maxSessions: number = LIMITS.maxSummariesPerRequest): SummariesRequest => {
  const o = obj(v, '', keys(REQUEST_FIELDS));
  const product = str(o.product, 'product', { min: 1, max: SUMMARY_LIMITS.product, pattern: PRODUCT_RE, patternName: 'letters, digits and . _ : -' });
  const sentAt = time(o.sentAt, 'sentAt');
  const list = arr(o.sessions, 'sessions', maxSessions);
  const seen = new Set<string>();
  const sessions = list.map((item, i) => {
    const s = checkSummary(item, `sessions[${i}]`);
    if (s.product !== product) throw new FieldError(`sessions[${i}].product`, `must equal the request's product "${product}"`);
    if (seen.has(s.id)) throw new FieldError(`sessions[${i}].id`, 'appears twice in this request');
    seen.add(s.id);
    return s;
  });
  return { product, sentAt, sessions };
};
