/**
 * The `server` and `email` destinations: the finished package goes to the collector in one POST
 * (`/packages` stores it, `/packages/email` relays it to the product's configured recipients).
 * No retry here: the caller is waiting, so a failure comes back at once with what went wrong.
 */
import { networkError, responseError, SendError } from '../../../shared/http-errors.js';
import { PACKAGE_MEDIA_TYPE } from '../../../shared/package-format.js';
import { type EmailReply, ingestAuthorization, PATHS, type PackageReply } from '../../../shared/protocol.js';

export interface CollectorTarget {
  url: string;
  ingestKey: string;
}

/** What the collector confirmed (`reply` is absent if a 2xx came without its JSON body). */
export type CollectorReceipt = { kind: 'server'; reply?: PackageReply } | { kind: 'email'; reply?: EmailReply };

/**
 * A package the collector did not take: the request's diagnostics (`url`, `status` or a network
 * failure, the server's error body) and which sessions were not sent (all of them: a package
 * is stored whole or not at all). Nothing is marked sent or packaged.
 */
export class PackageSendError extends SendError {
  override name = 'PackageSendError';
  /** Always empty: kept so callers can report "sent / not sent" without special cases. */
  readonly sent: readonly string[] = [];
  constructor(
    cause: SendError,
    readonly notSent: readonly string[],
  ) {
    super(
      `${cause.message}; nothing was sent (${notSent.length} session${notSent.length === 1 ? '' : 's'} kept locally, unsent)`,
      cause.url,
      cause.status,
      cause.retryable,
      cause.retryAfterMs,
      cause.body,
    );
  }
}

export const postPackage = async (
  kind: 'server' | 'email',
  target: CollectorTarget,
  blob: Blob,
  sessionIds: readonly string[],
  signal?: AbortSignal,
  doFetch: typeof fetch = globalThis.fetch.bind(globalThis),
): Promise<CollectorReceipt> => {
  const url = new URL(kind === 'server' ? PATHS.packages : PATHS.packagesEmail, target.url);
  // The collector corrects the package's times by the difference between its clock and this one.
  url.searchParams.set('sentAt', String(Date.now()));
  const what = kind === 'server' ? 'sending the package to' : 'emailing the package through';
  let res: Response;
  try {
    res = await doFetch(url.href, {
      method: 'POST',
      headers: { Authorization: ingestAuthorization(target.ingestKey), 'Content-Type': PACKAGE_MEDIA_TYPE },
      body: blob,
      signal,
      cache: 'no-store',
    });
  } catch (e) {
    if ((e as { name?: unknown } | null)?.name === 'AbortError') throw e;
    throw new PackageSendError(networkError(what, url.origin + url.pathname, e), sessionIds);
  }
  if (!res.ok) throw new PackageSendError(await responseError(what, url.origin + url.pathname, res), sessionIds);
  // A 2xx is the collector's confirmation; its body only adds detail.
  const body: unknown = await res.json().catch(() => undefined);
  return kind === 'server' ? { kind, reply: body as PackageReply | undefined } : { kind, reply: body as EmailReply | undefined };
};
