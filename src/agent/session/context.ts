/**
 * Session context, as the Loupe agent's session properties: the user (`setUser`) and the app's
 * context tags (`setContext`), kept for the page's life — a page restored from the back/forward
 * cache starts a new session with the same — and `describe`, which writes them, with the
 * environment and the installation id, onto a session record through the app's `beforeSummary`.
 *
 * The hook runs here, in the recording tab, and not when a summary is sent: the summary may be
 * sent by another tab or by the service worker after this page has gone, where the hook does not
 * exist. So what it removes is never stored in IndexedDB either, nor put in a package.
 */
import type { SessionRecord } from '../../core/db/schema.js';
import { CONTEXT_LIMITS, type ContextValue, contextValueProblem, readUser, type SessionContext, type SessionUser, tokenProblem } from '../../shared/context.js';
import { cutToLength, SUMMARY_LIMITS } from '../../shared/limits.js';
import type { SessionSummary } from '../../shared/summary.js';
import type { BeforeSummary, ResolvedOptions } from '../config/options.js';
import { warnOnce } from '../tools/monitor.js';

export interface ContextState {
  /** A user object, or null/undefined to clear; anything else is refused with a warning. */
  setUser(user: unknown): void;
  /** A tag; undefined (or null) removes it. A bad key or value, or one tag too many, is refused with a warning. */
  setContext(key: unknown, value: unknown): void;
  /** Forgets user and tags (the product's data was deleted). */
  clear(): void;
  /** Told after every accepted change. */
  onChange(fn: () => void): void;
  /** Sets the record's descriptive fields (see createContextState). */
  describe(r: SessionRecord, o: ResolvedOptions, installationId: string | undefined): void;
}

/** The summary fields `beforeSummary` may change; the rest are the agent's own. */
type Described = Pick<SessionSummary, 'url' | 'userAgent' | 'environment' | 'installationId' | 'user' | 'context'>;

/** What a hook handed back, made safe to store and send: a bad value goes, rather than have the collector refuse the session. */
const clean = (d: Partial<Record<keyof Described, unknown>>): Described => {
  const out: Described = {
    url: typeof d.url === 'string' ? cutToLength(d.url, SUMMARY_LIMITS.url) : '',
    userAgent: typeof d.userAgent === 'string' ? cutToLength(d.userAgent, SUMMARY_LIMITS.userAgent) : '',
  };
  for (const k of ['environment', 'installationId'] as const) if (!tokenProblem(d[k])) out[k] = d[k] as string;
  const u = d.user === undefined ? undefined : readUser(d.user);
  if (typeof u === 'object') out.user = u;
  if (typeof d.context === 'object' && d.context !== null) {
    const tags: SessionContext = {};
    let n = 0;
    for (const [k, v] of Object.entries(d.context))
      if (n < CONTEXT_LIMITS.maxKeys && !tokenProblem(k) && !contextValueProblem(v)) {
        tags[k] = v as ContextValue;
        n++;
      }
    if (n) out.context = tags;
  }
  return out;
};

/**
 * Runs `hook` on a copy of the record's summary with `fields` as its descriptive fields and returns
 * the fields to keep. A hook that throws, or returns something other than a summary, null or
 * nothing, counts as null: a scrubber that fails must not let through what it was there to remove.
 */
const scrub = (hook: BeforeSummary, r: SessionRecord, fields: Described): Described => {
  const { heartbeatAt: _h, ...rest } = r;
  const s: SessionSummary = structuredClone({ ...rest, ...fields });
  let out: unknown;
  try {
    const got = hook(s);
    out = got === undefined ? s : got;
    if (typeof out !== 'object') throw new TypeError('it returned neither a summary, null nor nothing');
  } catch (e) {
    warnOnce('beforeSummary', 'beforeSummary failed; the session keeps none of the fields it scrubs', e);
    out = null;
  }
  return clean((out ?? {}) as Partial<Record<keyof Described, unknown>>);
};

/**
 * `describe(record)` sets the record's descriptive fields from the page URL and user agent it was
 * created with, the options, user and tags, and the installation id, through `beforeSummary` when
 * it is set.
 */
export const createContextState = (): ContextState => {
  let user: SessionUser | undefined;
  let tags: SessionContext = {};
  let changed = (): void => {};
  // What each record started with, so a later change runs the hook on the original, not on what it left.
  const bases = new WeakMap<SessionRecord, Pick<SessionRecord, 'url' | 'userAgent'>>();
  return {
    setUser(u) {
      if (u === null || u === undefined) user = undefined;
      else {
        // Apps often hold numeric ids; the summary carries text.
        const id = (u as { id?: unknown }).id;
        const read = readUser(typeof id === 'number' && Number.isFinite(id) ? { ...(u as object), id: String(id) } : u);
        if (typeof read === 'string') return warnOnce(`setUser:${read}`, `setUser() ignored: ${read}`);
        user = read;
      }
      changed();
    },
    setContext(key, value) {
      const remove = value === undefined || value === null;
      const problem =
        tokenProblem(key) ??
        (remove ? undefined : contextValueProblem(value)) ??
        (!remove && !Object.hasOwn(tags, key as string) && Object.keys(tags).length >= CONTEXT_LIMITS.maxKeys
          ? `more than ${CONTEXT_LIMITS.maxKeys} tags`
          : undefined);
      if (problem) return warnOnce(`setContext:${problem}`, `setContext(${JSON.stringify(String(key)).slice(0, 80)}) ignored: ${problem}`);
      tags = { ...tags };
      if (remove) delete tags[key as string];
      else tags[key as string] = value as ContextValue;
      changed();
    },
    clear() {
      user = undefined;
      tags = {};
    },
    onChange(fn) {
      changed = fn;
    },
    describe(r, o, installationId) {
      let base = bases.get(r);
      if (!base) bases.set(r, (base = { url: r.url, userAgent: r.userAgent }));
      const d: Described = { ...base };
      if (o.environment !== undefined) d.environment = o.environment;
      if (installationId !== undefined) d.installationId = installationId;
      if (user) d.user = { ...user };
      if (Object.keys(tags).length) d.context = { ...tags };
      for (const k of ['environment', 'installationId', 'user', 'context'] as const) delete r[k];
      Object.assign(r, o.beforeSummary ? scrub(o.beforeSummary, r, d) : d);
    },
  };
};
