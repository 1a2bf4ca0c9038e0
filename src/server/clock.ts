/**
 * Clock-skew correction, as Sentry Relay does it: the difference between the server's receive
 * time and the agent's `sentAt` is the agent clock's error (plus a transport delay that is small
 * next to the threshold). Only a difference beyond the threshold is applied, so ordinary
 * latency never shifts times. Message order always comes from `seq`, never from corrected times.
 * (Relay applies a 55-minute minimum; a browser session is short, so Ferry defaults to 60 s.)
 */
export const clockOffset = (receivedAt: number, sentAt: number | undefined, thresholdMs: number, maxMs: number): number => {
  if (sentAt === undefined) return 0;
  const drift = receivedAt - sentAt;
  if (Math.abs(drift) <= thresholdMs) return 0;
  // sentAt is the client's word: beyond `maxMs` it is a broken clock or a forgery, and trusting it
  // would move the sessions' times anywhere (a sentAt of 0 puts them 56 years later).
  return Math.round(Math.max(-maxMs, Math.min(maxMs, drift)));
};
