import type { Severity } from '../../shared/severity.js';

/** When the buffer goes to IndexedDB (DESIGN.md §2). */
export const BATCH = {
  /** Longest a message waits in memory. */
  maxDelayMs: 1000,
  /** Buffer size that triggers a write without waiting. */
  maxMessages: 100,
  /** Messages per stored NDJSON chunk (fewer, larger strings store fastest). */
  chunkMessages: 1000,
  /** Messages serialised per task before yielding to the app, keeping tasks well under 50 ms. */
  messagesPerTask: 2000,
} as const;

export type FlushTiming = 'now' | 'timer' | 'none';

/**
 * What a newly buffered message asks of the writer: an error or a full buffer is written
 * at the next task; otherwise a timer (if none runs) bounds the wait to maxDelayMs.
 */
export const flushTimingFor = (severity: Severity, buffered: number, timerRunning: boolean): FlushTiming => {
  if (severity === 'error' || severity === 'critical' || buffered >= BATCH.maxMessages) return 'now';
  return timerRunning ? 'none' : 'timer';
};
