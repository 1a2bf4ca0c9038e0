/**
 * Session context, as the Loupe agent's session properties: the deployment's `environment`, the
 * user (`setUser`), the app's context tags (`setContext`) and the installation id. One set of
 * rules for them, used by the agent (which refuses a bad value with a console warning) and by the
 * collector (which refuses a summary carrying one, naming the field).
 */

/** A context tag's value. */
export type ContextValue = string | number | boolean;

/** The app's context tags of a session, as `setContext(key, value)` left them. */
export type SessionContext = Record<string, ContextValue>;

/** Who uses the app, as `setUser()` said. */
export interface SessionUser {
  id: string;
  name?: string;
  email?: string;
}

export const CONTEXT_LIMITS = {
  /** Context tags per session. */
  maxKeys: 50,
  /** Characters of a string tag value. */
  maxValueLength: 500,
  /** Characters of each user field. */
  user: { id: 256, name: 256, email: 320 },
} as const;

// Context keys, environment names and installation ids appear in read-API queries
// (`context.<key>=…`, `environment=…`), so they are plain tokens that never need escaping.
const TOKEN_RE = /^[\w.:-]{1,64}$/;

/** Why `v` cannot be a context key, an environment or an installation id; undefined when it can. */
export const tokenProblem = (v: unknown): string | undefined =>
  typeof v === 'string' && TOKEN_RE.test(v) && v !== '__proto__' ? undefined : 'must be 1–64 letters, digits or _ . : - (not __proto__)';

/** Why `v` cannot be a context tag's value; undefined when it can. */
export const contextValueProblem = (v: unknown): string | undefined =>
  typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v))
    ? undefined
    : typeof v !== 'string'
      ? 'must be a string, a finite number or a boolean'
      : v.length > CONTEXT_LIMITS.maxValueLength
        ? `must have at most ${CONTEXT_LIMITS.maxValueLength} characters`
        : undefined;

/** A clean copy of a user (only `id`, `name`, `email`), or the problem with it as a sentence. */
export const readUser = (u: unknown): SessionUser | string => {
  if (typeof u !== 'object' || u === null || Array.isArray(u)) return 'must be an object { id, name?, email? }';
  const given = u as Record<string, unknown>;
  const out = {} as SessionUser;
  for (const k of ['id', 'name', 'email'] as const) {
    const v = given[k];
    if (v === undefined && k !== 'id') continue;
    const max = CONTEXT_LIMITS.user[k];
    if (typeof v !== 'string' || v === '' || v.length > max) return `${k} must be a non-empty string of at most ${max} characters`;
    out[k] = v;
  }
  return out;
};

/** A context value as the collector stores and filters it: strings as they are, numbers and booleans as JSON writes them. */
export const contextText = (v: ContextValue): string => String(v);
