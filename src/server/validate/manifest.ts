import { tokenProblem } from '../../shared/context.js';
import {
  type BuiltPackageManifest,
  PACKAGE_CRITERIA,
  PACKAGE_FORMAT,
  PACKAGE_FORMAT_VERSION,
  PACKAGE_LIMITS,
  type PackageCreator,
  type PackageProblem,
  PROBLEM_LIMITS,
} from '../../shared/package-format.js';
import { FieldError } from '../errors.js';
import { arr, at, int, name, obj, oneOf, optStr, str, time } from './check.js';
import { checkSummaryKeeping, type ExtraFields, SUMMARY_LIMITS } from './summary.js';

const MANIFEST_FIELDS = {
  format: true,
  formatVersion: true,
  product: true,
  created: true,
  creator: true,
  criteria: true,
  description: true,
  replyTo: true,
  sessions: true,
  problems: true,
} satisfies Record<keyof BuiltPackageManifest, true>;
const CREATOR_FIELDS = {
  agentVersion: true,
  userAgent: true,
  application: true,
  version: true,
  environment: true,
  installationId: true,
} satisfies Record<keyof PackageCreator, true>;

export interface CheckedManifest extends BuiltPackageManifest {
  /** The unknown fields of each session's summary, in the order of `sessions` (kept as for summaries). */
  extra: ExtraFields[];
  /** Problems beyond the PROBLEM_LIMITS.maxStored kept in `problems`. */
  problemsOmitted?: number;
}

/**
 * `problems` as the packager writes it (package-format.ts): each entry is checked, and the list
 * and its reasons are cut to PROBLEM_LIMITS rather than refused. Fields a newer packager may add
 * to an entry are dropped.
 */
const checkProblems = (v: unknown): { problems: PackageProblem[]; omitted: number } => {
  // The manifest's byte limit already bounds how many there can be; this only bounds the loop.
  const list = arr(v, 'manifest.problems', PACKAGE_LIMITS.maxManifestBytes);
  const problems = list.slice(0, PROBLEM_LIMITS.maxStored).map((x, i): PackageProblem => {
    const f = `manifest.problems[${i}]`;
    const o = obj(x, f);
    const reason = str(o.reason, `${f}.reason`, { max: Number.MAX_SAFE_INTEGER });
    return {
      sessionId: str(o.sessionId, `${f}.sessionId`, { min: 1, max: PROBLEM_LIMITS.maxSessionIdLength }),
      chunkSeq: int(o.chunkSeq, `${f}.chunkSeq`),
      reason: reason.length > PROBLEM_LIMITS.maxReasonLength ? `${reason.slice(0, PROBLEM_LIMITS.maxReasonLength - 1)}…` : reason,
    };
  });
  return { problems, omitted: list.length - problems.length };
};

/** Validates `manifest.json` of a package; every session must be of the manifest's product. */
export const checkManifest = (v: unknown): CheckedManifest => {
  const o = obj(v, 'manifest', Object.keys(MANIFEST_FIELDS));
  if (o.format !== PACKAGE_FORMAT) throw new FieldError('manifest.format', `must be "${PACKAGE_FORMAT}"`);
  const formatVersion = int(o.formatVersion, 'manifest.formatVersion', 1);
  if (formatVersion > PACKAGE_FORMAT_VERSION)
    throw new FieldError('manifest.formatVersion', `${formatVersion} is newer than this collector reads (${PACKAGE_FORMAT_VERSION})`);
  const product = name(o.product, 'manifest.product');
  const c = obj(o.creator, 'manifest.creator', Object.keys(CREATOR_FIELDS));
  const creator: PackageCreator = {
    agentVersion: str(c.agentVersion, 'manifest.creator.agentVersion', { max: SUMMARY_LIMITS.agentVersion }),
    userAgent: str(c.userAgent, 'manifest.creator.userAgent', { max: SUMMARY_LIMITS.userAgent }),
  };
  if (c.application !== undefined) creator.application = name(c.application, 'manifest.creator.application');
  if (c.version !== undefined) creator.version = name(c.version, 'manifest.creator.version');
  for (const k of ['environment', 'installationId'] as const) {
    if (c[k] === undefined) continue;
    const p = tokenProblem(c[k]);
    if (p) throw new FieldError(`manifest.creator.${k}`, p);
    creator[k] = c[k] as string;
  }
  const criteria = arr(o.criteria, 'manifest.criteria', PACKAGE_CRITERIA.length).map((x, i) => oneOf(x, `manifest.criteria[${i}]`, PACKAGE_CRITERIA));
  const seen = new Set<string>();
  const extra: ExtraFields[] = [];
  const sessions = arr(o.sessions, 'manifest.sessions', PACKAGE_LIMITS.maxSessions).map((x, i) => {
    const checked = checkSummaryKeeping(x, `manifest.sessions[${i}]`);
    const s = checked.summary;
    extra.push(checked.extra);
    if (s.product !== product) throw new FieldError(at(`manifest.sessions[${i}]`, 'product'), `must equal the manifest's product "${product}"`);
    if (seen.has(s.id)) throw new FieldError(`manifest.sessions[${i}].id`, 'appears twice in the manifest');
    seen.add(s.id);
    return s;
  });
  const m: CheckedManifest = {
    format: PACKAGE_FORMAT,
    formatVersion,
    product,
    created: time(o.created, 'manifest.created'),
    creator,
    criteria,
    sessions,
    extra,
  };
  const description = optStr(o.description, 'manifest.description', { max: PACKAGE_LIMITS.maxDescriptionLength });
  if (description !== undefined) m.description = description;
  const replyTo = optStr(o.replyTo, 'manifest.replyTo', { max: PACKAGE_LIMITS.maxReplyToLength });
  if (replyTo !== undefined) m.replyTo = replyTo;
  if (o.problems !== undefined) {
    const { problems, omitted } = checkProblems(o.problems);
    if (problems.length > 0) m.problems = problems;
    if (omitted > 0) m.problemsOmitted = omitted;
  }
  return m;
};
