/**
 * What a name and a summary field may be: one rule, used by the agent's `init` (an invalid name
 * leaves the agent off), by the agent before it sends (what the collector would refuse for its
 * length is cut to fit instead) and by the collector's validation. Change it here and both follow.
 */
import type { SessionSummary } from './summary.js';

/** Longest product, application and version name (UTF-16 code units, as JavaScript counts). */
export const NAME_MAX_LENGTH = 100;

/** Lengths the collector accepts for the summary's strings; the names are never cut, the others are. */
export const SUMMARY_LIMITS = {
  id: 36,
  product: NAME_MAX_LENGTH,
  application: NAME_MAX_LENGTH,
  version: NAME_MAX_LENGTH,
  userAgent: 1024,
  url: 4096,
  agentVersion: 64,
} as const;

/** The summary's free-text fields the agent cuts to the collector's limit (names are refused at init instead). */
const CUT_FIELDS = ['userAgent', 'url', 'agentVersion'] as const satisfies readonly (keyof typeof SUMMARY_LIMITS & keyof SessionSummary)[];

/**
 * Fields of a summary the collector does not know (a newer agent's additions) are kept, up to
 * these bounds; past them they are dropped, never refused (docs/protocol.md, "Compatibility").
 */
export const EXTRA_LIMITS = {
  maxFields: 32,
  /** UTF-8 bytes of the kept fields as one JSON object. */
  maxBytes: 4096,
} as const;

// Control characters (C0, DEL, C1) would end up in log lines, email subjects and file names, and an
// unpaired surrogate does not survive UTF-8 (the collector's database would store U+FFFD, and
// the name would no longer match its ingest key).
// biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters in names is the point
const BAD_NAME_CHAR = /[\u0000-\u001f\u007f-\u009f]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/**
 * Why `value` is not a valid product, application or version name, or undefined when it is one:
 * 1–100 characters, no leading or trailing white space, no control characters. Spaces and any
 * other Unicode are fine ("Acme Suite", "Éditeur 4"): the agent puts the product into IndexedDB,
 * BroadcastChannel and Web Lock names, which take any string, and the collector never builds a
 * path or URL segment from it.
 */
export const nameProblem = (value: unknown): string | undefined => {
  if (typeof value !== 'string') return `must be a string, got ${value === null ? 'null' : typeof value}`;
  if (value.length === 0) return 'must not be empty';
  if (value.length > NAME_MAX_LENGTH) return `must have at most ${NAME_MAX_LENGTH} characters`;
  if (value.trim() !== value) return 'must not begin or end with white space';
  if (BAD_NAME_CHAR.test(value)) return 'must not contain control characters';
  return undefined;
};

/** `s` cut to at most `max` UTF-16 code units, never between the halves of a surrogate pair. */
export const cutToLength = (s: string, max: number): string => {
  if (s.length <= max) return s;
  const last = max > 0 ? s.charCodeAt(max - 1) : 0;
  return s.slice(0, last >= 0xd800 && last < 0xdc00 ? max - 1 : max);
};

/** The summary with every free-text field cut to the collector's limit, so it is never refused for a length. */
export const fitSummary = (s: SessionSummary): SessionSummary => {
  let out = s;
  for (const k of CUT_FIELDS) {
    const v = s[k];
    if (typeof v === 'string' && v.length > SUMMARY_LIMITS[k]) {
      if (out === s) out = { ...s };
      out[k] = cutToLength(v, SUMMARY_LIMITS[k]);
    }
  }
  return out;
};
