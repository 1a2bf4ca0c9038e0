import type { SessionRecord } from '../../core/db/schema.js';

export interface PruneInput {
  /** `sent`: the server has it (or declined it), so it goes first. */
  sessions: readonly (Pick<SessionRecord, 'id' | 'status' | 'startedAt' | 'bytes' | 'counts'> & { sent?: boolean })[];
  maxBytes: number;
  /** Sessions older than this (ms since start) are removed whatever else holds. */
  maxAgeMs: number;
  now: number;
  /** Bytes to free even when under the limit (after a QuotaExceededError the real quota is lower). */
  freeBytes?: number;
}

export interface PruneChoice {
  /** Session ids to delete, in deletion order. */
  remove: string[];
  /** Bytes still over the limit after removing them (only running sessions are left to trim). */
  stillOver: number;
}

/**
 * Pruning order of DESIGN.md §3: sessions past the age limit; then, while over the byte
 * limit, the oldest already-sent sessions; then unsent ones from least to most severe
 * (verbose/information-only, then warnings, then errors), oldest first within each tier.
 * Running sessions (this tab's and other live tabs') are never removed here.
 */
export const choosePrune = ({ sessions, maxBytes, maxAgeMs, now, freeBytes = 0 }: PruneInput): PruneChoice => {
  const remove: string[] = [];
  let total = 0;
  for (const s of sessions) total += s.bytes;
  const candidates = sessions.filter((s) => s.status !== 'running');
  const removed = new Set<string>();
  const drop = (s: (typeof sessions)[number]) => {
    remove.push(s.id);
    removed.add(s.id);
    total -= s.bytes;
  };
  for (const s of candidates) if (now - s.startedAt > maxAgeMs) drop(s);

  const tier = (s: (typeof sessions)[number]): number => {
    if (s.sent) return 0;
    if (s.counts.critical + s.counts.error > 0) return 3;
    if (s.counts.warning > 0) return 2;
    return 1;
  };
  const ordered = candidates.filter((s) => !removed.has(s.id)).sort((a, b) => tier(a) - tier(b) || a.startedAt - b.startedAt);
  const target = Math.min(maxBytes, sessions.reduce((n, s) => n + s.bytes, 0) - freeBytes);
  for (const s of ordered) {
    if (total <= target) break;
    drop(s);
  }
  return { remove, stillOver: Math.max(0, total - target) };
};

/**
 * When running sessions alone exceed the limit: which of the current session's chunks to
 * drop, oldest error-free chunks first, then the oldest of the rest.
 */
export const chooseChunkTrim = (chunks: readonly { seq: number; bytes: number; hasErrors: boolean }[], bytesToFree: number): number[] => {
  const ordered = [...chunks].sort((a, b) => Number(a.hasErrors) - Number(b.hasErrors) || a.seq - b.seq);
  const out: number[] = [];
  let freed = 0;
  for (const c of ordered) {
    if (freed >= bytesToFree) break;
    out.push(c.seq);
    freed += c.bytes;
  }
  return out;
};
