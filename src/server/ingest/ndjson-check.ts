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

  const take = (buf: Buffer): void => {
    line++;
    if (buf.length === 0) return;
    let text: string;
    try {
      text = decoder.decode(buf);
    } catch {
      throw bad('bad-ndjson', 'is not valid UTF-8');
    }
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

  return {
    push(chunk) {
      bytes += chunk.length;
      let buf = tail ? Buffer.concat([tail, chunk]) : chunk;
      let start = 0;
      for (;;) {
        const nl = buf.indexOf(10, start);
        if (nl < 0) break;
        if (nl - start > MAX_LINE_BYTES) throw bad('bad-ndjson', `is longer than ${MAX_LINE_BYTES} bytes`);
        take(buf.subarray(start, nl));
        start = nl + 1;
      }
      buf = buf.subarray(start);
      if (buf.length > MAX_LINE_BYTES) {
        line++;
        throw bad('bad-ndjson', `is longer than ${MAX_LINE_BYTES} bytes`);
      }
      tail = buf.length ? Buffer.from(buf) : undefined;
    },
    end() {
      if (tail) {
        take(tail);
        tail = undefined;
      }
      return { bytes, messageCount, counts };
    },
  };
};
