// Nothing the agent does may throw into the host app (as DataDog's browser-sdk does). Problems are
// reported once per kind on the console, with the console method captured before any console
// capture wraps it.

const original = {
  warn: console.warn.bind(console),
};
const reported = new Set<string>();

/** Writes one console warning per `key` for the life of the page. */
export const warnOnce = (key: string, text: string, extra?: unknown): void => {
  if (reported.has(key)) return;
  reported.add(key);
  try {
    if (extra === undefined) original.warn(`[ferry] ${text}`);
    else original.warn(`[ferry] ${text}`, extra);
  } catch {
    // A console that throws is not worth breaking the app for.
  }
};

/**
 * When to use: in a `catch`, or for a rejected promise nobody awaits — reports it once per place.
 */
export const monitorError = (where: string, error: unknown): void => {
  warnOnce(`internal:${where}`, `internal error in ${where}; the app is unaffected`, error);
};

const isThenable = (v: unknown): v is PromiseLike<unknown> => typeof (v as { then?: unknown } | null)?.then === 'function';

/**
 * When to use: running agent code once, now, where a throw must not escape — a public entry
 * point. Returns `fallback` instead of throwing; a returned promise that rejects resolves to
 * `fallback` too.
 */
export const callMonitored = <R>(where: string, fn: () => R, fallback: R): R => {
  try {
    const r = fn();
    if (isThenable(r))
      return Promise.resolve(r).catch((e: unknown) => {
        monitorError(where, e);
        return fallback;
      }) as R;
    return r;
  } catch (e) {
    monitorError(where, e);
    return fallback;
  }
};

/**
 * When to use: a function handed to code that will call it later — an event listener, a timer,
 * an API method built once. The wrapped function never throws.
 */
export const monitor =
  <A extends unknown[], R>(where: string, fn: (...args: A) => R, fallback: R) =>
  (...args: A): R =>
    callMonitored(where, () => fn(...args), fallback);

/** Reports the rejection of a promise started in the background. */
export const background = (where: string, p: Promise<unknown>): void => {
  p.catch((e: unknown) => monitorError(where, e));
};
