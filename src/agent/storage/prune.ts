// The pruning of maxLocalBytes / maxLocalAgeDays, loaded lazily by limits.ts: reading every
// session and choosing what goes is needed once per page load and when the store grows past its
// limit, never on the logging path.
import { chunkRange } from '../../core/db/chunks.js';
import { deliveryMap } from '../../core/db/delivery.js';
import type { FerryDatabase } from '../../core/db/open.js';
import type { SessionRecord } from '../../core/db/schema.js';
import { allSessions, deleteSessions } from '../../core/db/sessions.js';
import { isSettled } from '../../core/send/eligibility.js';
import { SEVERITIES } from '../../shared/severity.js';
import { chooseChunkTrim, choosePrune } from './prunePolicy.js';

export interface LimitResult {
  /** Bytes stored for the product after pruning. */
  usage: number;
  removedSessions: number;
  removedMessages: number;
}

const DAY_MS = 86_400_000;

/**
 * Applies maxLocalBytes / maxLocalAgeDays (DESIGN.md §3). Loss is counted on `current`:
 * other sessions removed go to prunedSessions/prunedMessages, its own trimmed messages to
 * `pruned`. `freeBytes` asks for room even under the limit (after a QuotaExceededError).
 */
export const enforceLimits = async (
  db: FerryDatabase,
  opts: { maxBytes: number; maxAgeDays: number; current: SessionRecord; now: number; freeBytes?: number },
): Promise<LimitResult> => {
  const { current } = opts;
  const [stored, delivery] = await Promise.all([allSessions(db), deliveryMap(db)]);
  const sessions = stored.map((s) => ({ ...(s.id === current.id ? current : s), sent: isSettled(s, delivery.get(s.id)) }));
  if (!sessions.some((s) => s.id === current.id)) sessions.push({ ...current, sent: false });
  const choice = choosePrune({
    sessions,
    maxBytes: opts.maxBytes,
    maxAgeMs: opts.maxAgeDays * DAY_MS,
    now: opts.now,
    freeBytes: opts.freeBytes,
  });
  const byId = new Map(sessions.map((s) => [s.id, s]));
  let removedMessages = 0;
  for (const id of choice.remove) removedMessages += byId.get(id)?.messageCount ?? 0;
  await deleteSessions(db, choice.remove);
  current.dropped.prunedSessions += choice.remove.length;
  current.dropped.prunedMessages += removedMessages;
  // Stored at once, not with the next batch: a tab closed before it writes again (its exit write
  // need not commit; the end mark then ends the stored record) would lose the count.
  if (choice.remove.length) await db.put('sessions', structuredClone(current)).catch(() => {});
  let usage = sessions.reduce((n, s) => n + s.bytes, 0);
  for (const id of choice.remove) usage -= byId.get(id)?.bytes ?? 0;
  if (choice.stillOver > 0 && current.status === 'running') usage -= await trimCurrent(db, current, choice.stillOver);
  return { usage, removedSessions: choice.remove.length, removedMessages };
};

/**
 * Drops the running session's own oldest chunks (error-free first); returns bytes freed. The
 * deletes commit alone first: under a real quota a transaction that also writes the session
 * record is refused whole, which freed nothing. Only once they are done is the live record
 * changed (a refused attempt counted its loss again and again), then stored on its own (should
 * that fail, the writer's next put carries it).
 */
const trimCurrent = async (db: FerryDatabase, current: SessionRecord, bytesToFree: number): Promise<number> => {
  const chunks = await db.getAll('chunks', chunkRange(current.id));
  const meta = chunks.map((c) => ({ seq: c.seq, bytes: c.bytes, hasErrors: c.counts.error + c.counts.critical > 0, c }));
  const drop = new Set(chooseChunkTrim(meta, bytesToFree));
  const tx = db.transaction('chunks', 'readwrite');
  for (const seq of drop) void tx.store.delete([current.id, seq]);
  await tx.done;
  let freed = 0;
  for (const m of meta) {
    if (!drop.has(m.seq)) continue;
    freed += m.bytes;
    for (const s of SEVERITIES) current.counts[s] -= m.c.counts[s];
    current.messageCount -= m.c.count;
    current.bytes -= m.bytes;
    current.dropped.pruned += m.c.count;
  }
  await db.put('sessions', structuredClone(current)).catch(() => {});
  return freed;
};
