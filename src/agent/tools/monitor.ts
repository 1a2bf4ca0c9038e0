// Every public entry point runs through `monitor` so that nothing the agent does can throw
// into the host app (as DataDog's browser-sdk does). Problems are reported once per kind on
// the console, with the console method captured before any console capture wraps it.

const original = {
  warn: console.warn.bind(console),
};
const reported = new Set<string>();
let internalErrors = 0;

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

export const reportInternalError = (where: string, error: unknown): void => {
  internalErrors++;
  warnOnce(`internal:${where}`, `internal error in ${where}; the app is unaffected`, error);
};

export const internalErrorCount = (): number => internalErrors;

/** Wraps `fn` so that it never throws: errors are counted and reported once. */
export const monitor =
  <A extends unknown[], R>(where: string, fn: (...args: A) => R) =>
  (...args: A): R | undefined => {
    try {
      return fn(...args);
    } catch (e) {
      reportInternalError(where, e);
      return undefined;
    }
  };

/** Swallows (and reports) the rejection of a background promise. */
export const background = (where: string, p: Promise<unknown>): void => {
  p.catch((e: unknown) => reportInternalError(where, e));
};
