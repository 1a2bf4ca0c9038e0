/**
 * Search terms, computed by the collector for both databases so that SQLite (FTS5) and
 * PostgreSQL (tsvector) find the same messages: lowercased runs of letters and digits.
 */

const TERM_RE = /[\p{L}\p{N}]+/gu;
/** A term longer than this is cut (PostgreSQL refuses lexemes over 2 KiB; nobody types 64 letters). */
export const MAX_TERM_LENGTH = 64;
/** Terms of one message kept in the index (the rest of a huge text is still in the session). */
export const MAX_TERMS_PER_MESSAGE = 1000;
/** Terms of one query (each must match). */
export const MAX_QUERY_TERMS = 16;

export const terms = (text: string, max = MAX_TERMS_PER_MESSAGE): string[] => {
  const out: string[] = [];
  for (const m of text.toLowerCase().matchAll(TERM_RE)) {
    out.push(m[0].slice(0, MAX_TERM_LENGTH));
    if (out.length >= max) break;
  }
  return out;
};

/** The terms of a query, each matched as a word prefix (one more than allowed, so the caller can refuse). */
export const queryTerms = (q: string): string[] => terms(q, MAX_QUERY_TERMS + 1);
