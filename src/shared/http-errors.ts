import type { SenderPause } from './channel.js';
import { type ErrorBody, parseRetryAfter } from './protocol.js';

/** Longest honoured Retry-After: an absurd value must not park sending for days. */
export const RETRY_AFTER_CAP_MS = 30 * 60_000;

/**
 * A failed request to the collector, with what a caller needs to decide: retry or not, when,
 * and a diagnostic sentence (URL, status or network failure, the server's own words).
 */
export class SendError extends Error {
  override name = 'SendError';
  constructor(
    message: string,
    readonly url: string,
    /** HTTP status, or undefined for a network failure. */
    readonly status: number | undefined,
    /** Network errors, 408, 429 and 5xx: the same request may succeed later. */
    readonly retryable: boolean,
    readonly retryAfterMs?: number,
    readonly body?: ErrorBody,
  ) {
    super(message);
  }
}

export const isRetryableStatus = (status: number): boolean => status === 408 || status === 429 || status >= 500;

/** Builds a SendError from a non-OK response (reads its JSON error body when there is one). */
export const responseError = async (what: string, url: string, res: Response, now = Date.now()): Promise<SendError> => {
  let body: ErrorBody | undefined;
  try {
    const parsed = (await res.json()) as Partial<ErrorBody>;
    if (typeof parsed?.error === 'string') {
      body = { error: parsed.error, detail: String(parsed.detail ?? '') };
      if (typeof parsed.field === 'string') body.field = parsed.field;
    }
  } catch {
    // not JSON: the status says enough
  }
  // A date is on the server's clock: read against the server's own Date header where it sent one,
  // so a device clock a day off neither cancels the wait nor stretches it to the cap.
  const serverNow = Date.parse(res.headers.get('date') ?? '');
  const retryAfterMs = parseRetryAfter(res.headers.get('retry-after'), Number.isNaN(serverNow) ? now : serverNow, RETRY_AFTER_CAP_MS);
  const said = body ? `: ${body.error}${body.detail ? ` — ${body.detail}` : ''}` : '';
  return new SendError(`${what} ${url} answered ${res.status}${said}`, url, res.status, isRetryableStatus(res.status), retryAfterMs, body);
};

export const networkError = (what: string, url: string, cause: unknown): SendError =>
  new SendError(`${what} ${url} failed: network error (${cause instanceof Error ? cause.message : String(cause)})`, url, undefined, true);

/** Why sending is paused: the collector refused the key, the origin, or the product. */
export type PauseReason = SenderPause;

/**
 * A refusal that every request of this sender would get alike (a wrong or revoked key, an origin
 * the key does not list, a key of another product): sending pauses rather than parking session
 * after session. `detail-not-wanted` is about one session, so it is not one of them.
 */
export const pauseReason = (e: SendError): PauseReason | undefined => {
  if (e.status === 401) return 'unauthorized';
  if (e.status !== 403) return undefined;
  if (e.body?.error === 'product-mismatch') return 'product-mismatch';
  return e.body?.error === 'detail-not-wanted' ? undefined : 'forbidden';
};
