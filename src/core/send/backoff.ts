/** The sender's rhythm (as the Loupe agent's publish loop), and the one jittered backoff every retry uses. */
export const CADENCE = {
  firstCheckMs: 5_000,
  everyMs: 60_000,
  retryBaseMs: 5_000,
  maxBackoffMs: 30 * 60_000,
  /** A refused key, origin or product: asked again after 15–30 min (or at once when the server options change). */
  pauseMs: 30 * 60_000,
} as const;

export interface Backoff {
  baseMs: number;
  maxMs: number;
}

/**
 * Delay before retry number `attempt` (1 = the first retry): an exponential step with jitter
 * (50–100 % of the step, so the tabs of many users do not retry in step), never sooner than the
 * server's Retry-After, never past `maxMs`.
 */
export const backoffDelay = (attempt: number, b: Backoff, retryAfterMs?: number, random: () => number = Math.random): number => {
  const step = Math.min(b.maxMs, b.baseMs * 2 ** Math.max(0, attempt - 1));
  const jittered = step * (0.5 + random() / 2);
  return Math.min(b.maxMs, Math.max(jittered, retryAfterMs ?? 0));
};

/** The sender's next check: the normal period when all went well, else the backoff after `failures` failures. */
export const nextCheckDelay = (failures: number, retryAfterMs: number | undefined, random: () => number = Math.random): number => {
  if (failures <= 0 && retryAfterMs === undefined) return CADENCE.everyMs;
  return backoffDelay(failures, { baseMs: CADENCE.retryBaseMs, maxMs: CADENCE.maxBackoffMs }, retryAfterMs, random);
};

/** How long sending pauses after a 401, a 403 or a product mismatch: 50–100 % of `pauseMs`, jittered as every backoff. */
export const pauseDelay = (random: () => number = Math.random): number =>
  backoffDelay(1, { baseMs: CADENCE.pauseMs, maxMs: CADENCE.pauseMs }, undefined, random);
