/**
 * Exception fingerprints: the same fault seen in many sessions gets one group. The fingerprint is
 * the exception's name, its message with the parts that vary per occurrence normalised (URLs,
 * ids, numbers, quoted values), and the top frames of its stack without line and column numbers
 * or URL hosts and hashes, so the group survives a redeploy. An error or critical message without
 * an exception is grouped by its category and normalised text.
 */
import { createHash } from 'node:crypto';
import type { LogMessage } from '../../shared/message.js';
import { severityRank } from '../../shared/severity.js';

/** Frames of the stack that count: deeper frames differ by caller, not by fault. */
export const FINGERPRINT_FRAMES = 3;
const MAX_TITLE = 300;

const URL_RE = /\b[a-z][a-z0-9+.-]*:\/\/[^\s'"`)<>]+/gi;
const UUID_RE = /\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/gi;
const HEX_RE = /\b(?:0x)?[0-9a-f]*\d[0-9a-f]*\b/gi;
const LONG_HEX_RE = /\b[0-9a-f]{8,}\b/gi;
const NUM_RE = /\b\d+(?:\.\d+)?\b/g;
const QUOTED_RE = /(["'`])(?:(?!\1).){1,200}\1/g;
const SPACES_RE = /\s+/g;

/** A message with the values that change between occurrences replaced by placeholders. */
export const normaliseMessage = (text: string): string =>
  text
    .replace(URL_RE, '<url>')
    .replace(UUID_RE, '<id>')
    .replace(LONG_HEX_RE, (h) => (/\d/.test(h) ? '<id>' : h))
    .replace(QUOTED_RE, '<str>')
    .replace(NUM_RE, '<n>')
    .replace(HEX_RE, (h) => (/^0x/i.test(h) ? '<n>' : h))
    .replace(SPACES_RE, ' ')
    .trim()
    .slice(0, MAX_TITLE);

// V8: "    at fn (https://host/app.3f9a1c.js:10:5)" or "    at https://host/app.js:10:5";
// Firefox/Safari: "fn@https://host/app.js:10:5".
const V8_FRAME = /^\s*at (?:(.+?) \()?(.+?)(?::\d+){0,2}\)?$/;
const GECKO_FRAME = /^(.*?)@(.+?)(?::\d+){0,2}$/;

/** A frame's location without host, query, line and column, and without a build hash in the file name. */
const location = (loc: string): string => {
  let path = loc;
  try {
    const u = new URL(loc);
    path = u.pathname;
  } catch {
    // Not a URL (native code, <anonymous>, a file path): kept as is.
  }
  const file = path.split('/').pop() ?? path;
  return file.replace(/[.-][0-9a-f]{6,}(?=\.)/gi, '').replace(/\?.*$/, '');
};

/** The top frames of a stack as "function@file", innermost first. */
export const topFrames = (stack: string | undefined, n = FINGERPRINT_FRAMES): string[] => {
  if (!stack) return [];
  const out: string[] = [];
  for (const line of stack.split('\n')) {
    const m = V8_FRAME.exec(line) ?? (line.includes('@') ? GECKO_FRAME.exec(line.trim()) : null);
    if (!m) continue;
    out.push(`${(m[1] ?? '').trim() || '?'}@${location(m[2])}`);
    if (out.length >= n) break;
  }
  return out;
};

export interface Fingerprint {
  /** 32 hex digits, unique per product and fault. */
  id: string;
  /** The exception's name, or the category of an error message without one. */
  name: string;
  /** The normalised message. */
  title: string;
}

const ERROR_RANK = severityRank('error');

/** The message's fingerprint, or undefined when it is neither an exception nor an error. */
export const fingerprintOf = (product: string, m: LogMessage): Fingerprint | undefined => {
  let name: string;
  let title: string;
  let frames: string[];
  if (m.exception) {
    name = m.exception.name || 'Error';
    title = normaliseMessage(m.exception.message || m.text);
    frames = topFrames(m.exception.stack);
  } else if (severityRank(m.severity) >= ERROR_RANK) {
    name = m.category || 'error';
    title = normaliseMessage(m.text.split('\n')[0] ?? '');
    frames = [];
  } else return undefined;
  const id = createHash('sha256')
    .update([product, name, title, ...frames].join('\0'))
    .digest('hex')
    .slice(0, 32);
  return { id, name: name.slice(0, 200).replace(/\0/g, ''), title: title.replace(/\0/g, '') };
};
