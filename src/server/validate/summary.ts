import { CONTEXT_LIMITS, type ContextValue, contextValueProblem, readUser, type SessionContext, type SessionUser, tokenProblem } from '../../shared/context.js';
import { UUID_RE } from '../../shared/ids.js';
import { EXTRA_LIMITS, SUMMARY_LIMITS } from '../../shared/limits.js';
import { LIMITS, type SummariesRequest, type SummaryExtra } from '../../shared/protocol.js';
import { SEVERITIES, type SeverityCounts } from '../../shared/severity.js';
import type { LossAccounting, SessionSummary, StorageReset } from '../../shared/summary.js';
import { FieldError } from '../errors.js';
import { wellFormed, wellFormedJson } from '../well-formed.js';
import { arr, at, bool, int, name, obj, oneOf, str, time, type UnknownField } from './check.js';

export { SUMMARY_LIMITS };

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

const checkCounts = (v: unknown, field: string, unknown?: UnknownField): SeverityCounts => {
  const o = obj(v, field, SEVERITIES, unknown);
  const out = {} as SeverityCounts;
  for (const s of SEVERITIES) out[s] = int(o[s], at(field, s));
  return out;
};

const checkLoss = (v: unknown, field: string, unknown?: UnknownField): LossAccounting => {
  const o = obj(v, field, keys(LOSS_FIELDS), unknown);
  return {
    beforeLog: int(o.beforeLog, at(field, 'beforeLog')),
    overflow: int(o.overflow, at(field, 'overflow')),
    pruned: int(o.pruned, at(field, 'pruned')),
    prunedSessions: int(o.prunedSessions, at(field, 'prunedSessions')),
    prunedMessages: int(o.prunedMessages, at(field, 'prunedMessages')),
  };
};

const checkReset = (v: unknown, field: string, unknown?: UnknownField): StorageReset => {
  const o = obj(v, field, keys(RESET_FIELDS), unknown);
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

const checkUser = (v: unknown, field: string, unknown?: UnknownField): SessionUser => {
  obj(v, field, keys(USER_FIELDS), unknown);
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

/**
 * Validates one summary completely (types, ranges, lengths); returns a clean copy. A field it does
 * not know is handed to `unknown` (checkSummaryKeeping keeps them), or refused without it.
 */
export const checkSummary = (v: unknown, field: string, unknown?: UnknownField): SessionSummary => {
  // NUL and lone surrogates become U+FFFD in every string, unknown fields included (well-formed.ts).
  const o = obj(wellFormedJson(v), field, keys(SUMMARY_FIELDS), unknown);
  const f = (k: keyof SessionSummary): string => at(field, k);
  const s: SessionSummary = {
    id: str(o.id, f('id'), { max: SUMMARY_LIMITS.id, pattern: UUID_RE, patternName: 'a lowercase UUID' }),
    product: name(o.product, f('product')),
    application: name(o.application, f('application')),
    version: name(o.version, f('version')),
    status: oneOf(o.status, f('status'), ['running', 'ended', 'crashed'] as const),
    startedAt: time(o.startedAt, f('startedAt')),
    counts: checkCounts(o.counts, f('counts'), unknown),
    messageCount: int(o.messageCount, f('messageCount')),
    lastSeq: int(o.lastSeq, f('lastSeq')),
    bytes: int(o.bytes, f('bytes')),
    userAgent: str(o.userAgent, f('userAgent'), { max: SUMMARY_LIMITS.userAgent }),
    url: str(o.url, f('url'), { max: SUMMARY_LIMITS.url }),
    agentVersion: str(o.agentVersion, f('agentVersion'), { max: SUMMARY_LIMITS.agentVersion }),
    persistence: oneOf(o.persistence, f('persistence'), ['indexeddb', 'memory'] as const),
    dropped: checkLoss(o.dropped, f('dropped'), unknown),
  };
  if (o.endedAt !== undefined) s.endedAt = time(o.endedAt, f('endedAt'));
  if (o.storageReset !== undefined) s.storageReset = checkReset(o.storageReset, f('storageReset'), unknown);
  if (o.environment !== undefined) s.environment = token(o.environment, f('environment'));
  if (o.installationId !== undefined) s.installationId = token(o.installationId, f('installationId'));
  if (o.user !== undefined) s.user = checkUser(o.user, f('user'), unknown);
  if (o.context !== undefined) s.context = checkContext(o.context, f('context'));
  if (o.force !== undefined) s.force = bool(o.force, f('force'));
  return s;
};

/** The fields of one summary the collector does not know, kept within EXTRA_LIMITS. */
export interface ExtraFields {
  /** Kept, by path within the summary (`color`, `dropped.byQuota`); absent when none was kept. */
  fields?: SummaryExtra;
  /** Unknown fields left out because they did not fit the bounds. */
  dropped: number;
}

/**
 * A newer agent may add fields; this collector keeps the ones it does not know, in the order
 * sent, while they fit EXTRA_LIMITS, and drops the rest. It never refuses a summary for them.
 */
const extraCollector = (base: string): { unknown: UnknownField; result(): ExtraFields } => {
  const fields: SummaryExtra = {};
  let count = 0;
  let bytes = 2; // the braces of the JSON object
  let dropped = 0;
  const unknown: UnknownField = (path, value) => {
    const key = base === '' ? path : path.slice(base.length + 1);
    const cost = Buffer.byteLength(JSON.stringify(key)) + 1 + Buffer.byteLength(JSON.stringify(value) ?? 'null') + (count > 0 ? 1 : 0);
    if (count >= EXTRA_LIMITS.maxFields || bytes + cost > EXTRA_LIMITS.maxBytes) {
      dropped++;
      return;
    }
    // defineProperty: a field named "__proto__" is kept as a field, not taken as the prototype.
    Object.defineProperty(fields, key, { value, enumerable: true, writable: true, configurable: true });
    count++;
    bytes += cost;
  };
  return { unknown, result: () => (count > 0 ? { fields, dropped } : { dropped }) };
};

/** Validates one summary, keeping the fields it does not know (within bounds) apart from it. */
export const checkSummaryKeeping = (v: unknown, field: string): { summary: SessionSummary; extra: ExtraFields } => {
  const c = extraCollector(field);
  const summary = checkSummary(v, field, c.unknown);
  return { summary, extra: c.result() };
};

export interface CheckedSummariesRequest extends SummariesRequest {
  /** The unknown fields of each summary, in the order of `sessions`. */
  extra: ExtraFields[];
}

/** Validates a `POST /sessions/summaries` body; throws FieldError naming the first bad field. */
export const checkSummariesRequest = (v: unknown, maxSessions: number = LIMITS.maxSummariesPerRequest): CheckedSummariesRequest => {
  // Fields a newer agent adds to the request itself are ignored, as a summary's unknown ones are kept.
  const o = obj(v, '', keys(REQUEST_FIELDS), () => {});
  const product = name(typeof o.product === 'string' ? wellFormed(o.product) : o.product, 'product');
  const sentAt = time(o.sentAt, 'sentAt');
  const list = arr(o.sessions, 'sessions', maxSessions);
  const seen = new Set<string>();
  const extra: ExtraFields[] = [];
  const sessions = list.map((item, i) => {
    const checked = checkSummaryKeeping(item, `sessions[${i}]`);
    const s = checked.summary;
    if (s.product !== product) throw new FieldError(`sessions[${i}].product`, `must equal the request's product "${product}"`);
    if (seen.has(s.id)) throw new FieldError(`sessions[${i}].id`, 'appears twice in this request');
    seen.add(s.id);
    extra.push(checked.extra);
    return s;
  });
  return { product, sentAt, sessions, extra };
};
