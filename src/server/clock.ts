/**
 * Clock-skew correction, as Sentry Relay does it: the difference between the server's receive
 * time and the agent's `sentAt` is the agent clock's error (plus a transport delay that is small
 * next to the threshold). Only a difference beyond the threshold is applied, so ordinary
 * latency never shifts times. Message order always comes from `seq`, never from corrected times.
 * (Relay applies a 55-minute minimum; a browser session is short, so Ferry defaults to 60 s.)
 */
export const clockOffset = (receivedAt: number, sentAt: number | undefined, thresholdMs: number): number => {
  if (sentAt === undefined) return 0;
  const drift = receivedAt - sentAt;
  return Math.abs(drift) > thresholdMs ? Math.round(drift) : 0;
};
