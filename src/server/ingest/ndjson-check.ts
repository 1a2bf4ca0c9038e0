/**
 * Streaming validation of a session's NDJSON as it is decompressed: every line a LogMessage of
 * this session, `seq` strictly increasing. Counts messages per severity on the way.
 */
import { checkMessage } from '../../shared/message.js';
import { emptyCounts, type SeverityCounts } from '../../shared/severity.js';
import { ApiError } from '../errors.js';

/** Far above the agent's per-message limits (text, details and stack together stay < 100 KB). */
export const MAX_LINE_BYTES = 1024 * 1024;

export interface NdjsonStats {
  bytes: number;
  messageCount: number;
  counts: SeverityCounts;
  /** Seq of the last message (0 for an empty detail). */
  lastSeq: number;
}

export interface NdjsonChecker {
  push(chunk: Buffer): void;
  end(): NdjsonStats;
}

export const createNdjsonChecker = (sessionId: string, where: string): NdjsonChecker => {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  const counts = emptyCounts();
  let tail: Buffer | undefined;
  let line = 0;
  let bytes = 0;
  let messageCount = 0;
  let lastSeq = 0;

  const bad = (code: 'bad-ndjson' | 'foreign-message', detail: string): ApiError => new ApiError(400, code, `${where} line ${line}: ${detail}`);

  const take = (text: string): void => {
    line++;
    if (text === '') return;
    let v: unknown;
    try {
      v = JSON.parse(text);
    } catch {
      throw bad('bad-ndjson', 'is not JSON');
    }
    const reason = checkMessage(v);
    if (reason) throw bad('bad-ndjson', reason);
    const m = v as { sessionId: string; seq: number; severity: keyof SeverityCounts };
    if (m.sessionId !== sessionId) throw bad('foreign-message', `belongs to session ${m.sessionId.slice(0, 64)}, not ${sessionId}`);
    if (m.seq <= lastSeq) throw bad('bad-ndjson', `seq ${m.seq} does not follow ${lastSeq} (must increase)`);
    lastSeq = m.seq;
    counts[m.severity]++;
    messageCount++;
  };

  // Whole runs of complete lines are decoded at once (a newline byte never occurs inside a
  // multi-byte UTF-8 sequence, so cutting at one never splits a character).
  const takeLines = (buf: Buffer): void => {
    let text: string;
    try {
      text = decoder.decode(buf);
    } catch {
      line++;
      throw bad('bad-ndjson', 'is not valid UTF-8');
    }
    let start = 0;
    for (;;) {
      const nl = text.indexOf('\n', start);
      if (nl < 0) break;
      if (nl - start > MAX_LINE_BYTES) {
        line++;
        throw bad('bad-ndjson', `is longer than ${MAX_LINE_BYTES} bytes`);
      }
      take(text.slice(start, nl));
      start = nl + 1;
    }
    if (start < text.length) take(text.slice(start));
  };

  return {
    push(chunk) {
      bytes += chunk.length;
      const buf = tail ? Buffer.concat([tail, chunk]) : chunk;
      const lastNl = buf.lastIndexOf(10);
      if (lastNl < 0) {
        if (buf.length > MAX_LINE_BYTES) {
          line++;
          throw bad('bad-ndjson', `is longer than ${MAX_LINE_BYTES} bytes`);
        }
        tail = Buffer.from(buf);
        return;
      }
      takeLines(buf.subarray(0, lastNl + 1));
      const rest = buf.subarray(lastNl + 1);
      if (rest.length > MAX_LINE_BYTES) {
        line++;
        throw bad('bad-ndjson', `is longer than ${MAX_LINE_BYTES} bytes`);
      }
      tail = rest.length ? Buffer.from(rest) : undefined;
    },
    end() {
      if (tail) {
        takeLines(tail);
        tail = undefined;
      }
      return { bytes, messageCount, counts, lastSeq };
    },
  };
};
