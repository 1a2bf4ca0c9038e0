/**
 * Text the databases can hold. PostgreSQL refuses U+0000 in `text` (`invalid byte sequence for
 * encoding "UTF8": 0x00`) while SQLite keeps it, and a lone UTF-16 surrogate becomes U+FFFD in
 * one column (the drivers encode UTF-8) but stays a `\ud800` escape in the JSON of another. An
 * agent retries a 5xx, so one such value would block its batch for ever: instead both become
 * U+FFFD, on both stores, before anything is checked or stored. Nothing else is lost.
 */
export const REPLACEMENT = '\uFFFD';

// NUL, a high surrogate not followed by a low one, a low surrogate not preceded by a high one.
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding NUL is the point
const ILL_FORMED = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

export const wellFormed = (s: string): string => {
  ILL_FORMED.lastIndex = 0;
  return ILL_FORMED.test(s) ? s.replace(ILL_FORMED, REPLACEMENT) : s;
};

/**
 * A copy of parsed JSON with every string (object keys included) well formed; the value itself
 * when nothing needed replacing, so the common case allocates nothing.
 */
export const wellFormedJson = (v: unknown): unknown => {
  if (typeof v === 'string') return wellFormed(v);
  if (Array.isArray(v)) {
    let out: unknown[] | undefined;
    for (let i = 0; i < v.length; i++) {
      const x = wellFormedJson(v[i]);
      if (x !== v[i]) (out ??= v.slice())[i] = x;
    }
    return out ?? v;
  }
  if (typeof v === 'object' && v !== null) {
    let changed = false;
    const entries = Object.entries(v).map(([k, x]): [string, unknown] => {
      const k2 = wellFormed(k);
      const x2 = wellFormedJson(x);
      if (k2 !== k || x2 !== x) changed = true;
      return [k2, x2];
    });
    if (!changed) return v;
    const out: Record<string, unknown> = {};
    // defineProperty: a key "__proto__" stays a key, as JSON.parse made it.
    for (const [k, x] of entries) Object.defineProperty(out, k, { value: x, enumerable: true, writable: true, configurable: true });
    return out;
  }
  return v;
};
