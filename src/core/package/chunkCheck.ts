/**
 * Decides whether a stored chunk can go into a package or detail blob as it is.
 *
 * The checks are per chunk, not per line: the record's shape, its session, and its first and
 * last lines decoded in full (valid messages of this session, in order after the previous
 * chunk). IndexedDB stores a chunk as one string value, so damage shows up as a record that
 * cannot be read or whose shape or ends are wrong, not as one bad line in its middle; and a
 * per-line parse would cost more than the whole 10% the framing budget allows
 * (bench/package.bench.ts). The collector still checks every line.
 */
import { checkMessage, type LogMessage } from '../../shared/message.js';

export type ChunkVerdict = { ok: true; text: string; lastSeq: number } | { ok: false; reason: string };

const parseLine = (line: string, sessionId: string, which: string): LogMessage | string => {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    return `its ${which} line is not JSON`;
  }
  const bad = checkMessage(v);
  if (bad) return `its ${which} line is not a message (${bad})`;
  const m = v as LogMessage;
  if (m.sessionId !== sessionId) return `its ${which} line belongs to another session`;
  return m;
};

/** `previousSeq`: the last sequence number already taken for this session (0 at the start). */
export const checkChunk = (record: unknown, sessionId: string, previousSeq: number): ChunkVerdict => {
  if (typeof record !== 'object' || record === null) return { ok: false, reason: 'the record is not an object' };
  const r = record as { sessionId?: unknown; text?: unknown };
  if (r.sessionId !== sessionId) return { ok: false, reason: 'the record belongs to another session' };
  const text = r.text;
  if (typeof text !== 'string') return { ok: false, reason: `its text is ${text === null ? 'null' : typeof text}, not a string` };
  if (text.length === 0) return { ok: false, reason: 'its text is empty' };
  if (text.charCodeAt(text.length - 1) !== 10) return { ok: false, reason: 'its text does not end with a newline (cut short)' };
  const firstEnd = text.indexOf('\n');
  const first = parseLine(text.slice(0, firstEnd), sessionId, 'first');
  if (typeof first === 'string') return { ok: false, reason: first };
  if (first.seq <= previousSeq) return { ok: false, reason: `its first seq ${first.seq} does not follow ${previousSeq}` };
  if (firstEnd === text.length - 1) return { ok: true, text, lastSeq: first.seq };
  const lastStart = text.lastIndexOf('\n', text.length - 2) + 1;
  const last = parseLine(text.slice(lastStart, -1), sessionId, 'last');
  if (typeof last === 'string') return { ok: false, reason: last };
  if (last.seq <= first.seq) return { ok: false, reason: `its last seq ${last.seq} does not follow its first ${first.seq}` };
  return { ok: true, text, lastSeq: last.seq };
};
