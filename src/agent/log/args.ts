/**
 * Reads the arguments of a log call both ways people write them: Loupe's
 * `(category, text, details?)` when the first two are strings, JavaScript's `(text, details?)`
 * otherwise; an Error in any position becomes the message's exception (its message the text when
 * no text was given). A logger made by createLogger(category) takes `(text, details?)`. Three
 * fixed parameters rather than a rest array: this runs inside every log call.
 */
export const DEFAULT_CATEGORY = 'General';

export interface LogArgs {
  category: unknown;
  text: unknown;
  details: unknown;
  exception: unknown;
}

const isError = (v: unknown): v is Error => v instanceof Error;

export const readLogArgs = (a: unknown, b: unknown, c: unknown, boundCategory?: string): LogArgs => {
  if (boundCategory === undefined && typeof a === 'string' && typeof b === 'string')
    return { category: a, text: b, details: isError(c) ? undefined : c, exception: isError(c) ? c : undefined };
  const category = boundCategory ?? DEFAULT_CATEGORY;
  if (isError(a)) return { category, text: a.message, details: b, exception: a };
  if (isError(b)) return { category, text: a, details: c, exception: b };
  return { category, text: a, details: b, exception: isError(c) ? c : undefined };
};
