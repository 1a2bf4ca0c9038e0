import { createHash } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { Context } from 'hono';
import { PACKAGE_LIMITS } from '../../shared/package-format.js';
import type { EmailReply, PackageRecord, PackageReply } from '../../shared/protocol.js';
import type { SessionSummary } from '../../shared/summary.js';
import { clockOffset } from '../clock.js';
import type { CollectorConfig } from '../config.js';
import type { Mailer } from '../email.js';
import type { AppEnv } from '../env.js';
import { ApiError } from '../errors.js';
import type { Logger } from '../log.js';
import { mediaType } from '../middleware/body.js';
import { addWork } from '../middleware/rate-limit.js';
import { type ReadPackage, readPackage } from '../package/read-package.js';
import { boundaryOf, type FilePart, multipartParts, partText, spoolBody, spoolDir } from '../package/spool.js';
import { fileSource, type ZipSource } from '../package/zip.js';
import type { Store } from '../store/types.js';

export interface PackagesDeps {
  config: CollectorConfig;
  store: Store;
  log: Logger;
  now: () => number;
  mailer?: Mailer;
  /** Shared by both package endpoints (createPackageSlots). */
  slots: PackageSlots;
  /** Where package bodies are spooled, a folder per request (emptied at start-up). */
  spoolRoot: string;
}

/** How many package bodies are being handled, against `limits.concurrentPackages`. */
export interface PackageSlots {
  /** A release function, or undefined when every slot is taken. */
  take(): (() => void) | undefined;
  readonly inUse: number;
}

export const createPackageSlots = (max: number): PackageSlots => {
  let used = 0;
  return {
    take() {
      if (used >= max) return undefined;
      used++;
      let released = false;
      return () => {
        if (released) return;
        released = true;
        used--;
      };
    },
    get inUse() {
      return used;
    },
  };
};

/** Seconds a client refused for lack of a slot waits: about one package's handling time. */
const BUSY_RETRY_AFTER_S = 10;

/**
 * Runs `fn` in a package slot. A package body is held in memory several times over while it is
 * checked, so only `limits.concurrentPackages` are handled at once: beyond that the request is
 * refused before its body is read (503, Retry-After; agents retry 5xx), never queued in memory.
 */
const inSlot = async <T>(d: PackagesDeps, fn: () => Promise<T>): Promise<T> => {
  const release = d.slots.take();
  if (!release)
    throw new ApiError(503, 'busy', `the collector is handling ${d.config.limits.concurrentPackages} packages; retry in ${BUSY_RETRY_AFTER_S} s`, {
      'Retry-After': String(BUSY_RETRY_AFTER_S),
      // The body stays unread, so the connection cannot carry another request.
      Connection: 'close',
    });
  try {
    return await fn();
  } finally {
    release();
  }
};

const ZIP_TYPES = ['application/zip', 'application/octet-stream', 'application/x-zip-compressed'];
/** Room for the text fields and multipart framing around the zip. */
const FORM_OVERHEAD = 64 * 1024;

interface PackageBody {
  /** The zip, in place in the spooled body file. */
  zip: ZipSource;
  sha256: string;
  description?: string;
  replyTo?: string;
  sentAt?: number;
}

const optionalTime = (v: string | undefined): number | undefined => {
  if (v === undefined || v === '') return undefined;
  const n = /^\d{1,16}$/.test(v) ? Number(v) : NaN;
  if (!Number.isFinite(n)) throw new ApiError(400, 'invalid-field', 'sentAt must be epoch milliseconds');
  return n;
};

const sha256Of = async (parts: AsyncIterable<Buffer>): Promise<string> => {
  const h = createHash('sha256');
  for await (const p of parts) h.update(p);
  return h.digest('hex');
};

/**
 * The package arrives as the raw zip (`Content-Type: application/zip`), or as multipart form data
 * with the zip in `package` and optional `description`, `replyTo` and `sentAt` fields (which
 * override the manifest's). `sentAt` may also be a query parameter. Either way the body goes to a
 * file in `dir` (spool.ts) and the zip is read from there: a package is never held in memory whole.
 */
const readPackageBody = async (c: Context, max: number, dir: string, opened: (fh: FileHandle) => void): Promise<PackageBody> => {
  const type = mediaType(c);
  const sentAtQuery = optionalTime(c.req.query('sentAt'));
  const file = join(dir, 'body');
  if (ZIP_TYPES.includes(type)) {
    const body = await spoolBody(c.req.raw.body, c.req.header('content-length'), file, max, 'package');
    opened(body.fh);
    return { zip: fileSource(body.fh, 0, body.size), sha256: body.sha256, ...(sentAtQuery !== undefined ? { sentAt: sentAtQuery } : {}) };
  }
  if (type === 'multipart/form-data') {
    const boundary = boundaryOf(c.req.header('content-type') ?? '');
    const body = await spoolBody(c.req.raw.body, c.req.header('content-length'), file, max + FORM_OVERHEAD, 'package form');
    opened(body.fh);
    const parts = await multipartParts(body.fh, body.size, boundary);
    // As FormData.get: the first part of a name counts.
    const first = (name: string): FilePart | undefined => parts.find((p) => p.name === name);
    const text = async (name: string, maxChars: number): Promise<string | undefined> => {
      const p = first(name);
      if (!p) return undefined;
      if (p.filename !== undefined) throw new ApiError(400, 'invalid-field', `${name} must be text`);
      // UTF-8 takes at most 4 bytes a character: anything longer is over the limit in characters too.
      const v = await partText(body.fh, p, maxChars * 4);
      if (v.length > maxChars) throw new ApiError(400, 'invalid-field', `${name} must have at most ${maxChars} characters`);
      return v === '' ? undefined : v;
    };
    const pkgPart = first('package');
    if (pkgPart?.filename === undefined) throw new ApiError(400, 'invalid-field', 'package: a file field named "package" is required');
    if (pkgPart.length > max) throw new ApiError(413, 'too-large', `package is ${pkgPart.length} bytes, the limit is ${max}`);
    const zip = fileSource(body.fh, pkgPart.start, pkgPart.length);
    const out: PackageBody = { zip, sha256: await sha256Of(zip.stream(0, zip.size)) };
    const description = await text('description', PACKAGE_LIMITS.maxDescriptionLength);
    if (description !== undefined) out.description = description;
    const replyTo = await text('replyTo', PACKAGE_LIMITS.maxReplyToLength);
    if (replyTo !== undefined) out.replyTo = replyTo;
    const sentAt = optionalTime(await text('sentAt', 16)) ?? sentAtQuery;
    if (sentAt !== undefined) out.sentAt = sentAt;
    return out;
  }
  throw new ApiError(415, 'unsupported-media-type', 'Content-Type must be application/zip or multipart/form-data');
};

/**
 * Runs `fn` with the request's package read and checked, in a spool folder of its own that is
 * removed afterwards (blobs are copied into the blob store before that).
 */
const withPackage = async <T>(c: Context<AppEnv>, d: PackagesDeps, fn: (body: PackageBody, pkg: ReadPackage) => Promise<T>): Promise<T> => {
  const key = c.get('ingest');
  const spool = await spoolDir(d.spoolRoot);
  let fh: FileHandle | undefined;
  try {
    const body = await readPackageBody(c, d.config.limits.packageBytes, spool.dir, (h) => (fh = h));
    const pkg = await readPackage(body.zip, d.config.limits, { blobDir: spool.dir, sha256: body.sha256 });
    if (pkg.manifest.product !== key.product)
      throw new ApiError(403, 'product-mismatch', `this ingest key belongs to product "${key.product}", not "${pkg.manifest.product}"`);
    if (body.description !== undefined) pkg.manifest.description = body.description;
    if (body.replyTo !== undefined) pkg.manifest.replyTo = body.replyTo;
    return await fn(body, pkg);
  } finally {
    await fh?.close();
    await spool.done();
  }
};

/**
 * A package's summary with what its lines prove: the packager's counts, message count and last
 * seq are claims (they drive `worst`, the severity filters and which detail replaces which), so
 * the stored ones are those of the NDJSON the package carries. An honest packager's agree, except
 * where it had to leave unreadable chunks out (manifest `problems`): then the lines are what is
 * stored, and the counts should say so.
 */
const verified = (s: ReadPackage['sessions'][number]): SessionSummary => ({
  ...s.summary,
  counts: { ...s.stats.counts },
  messageCount: s.stats.messageCount,
  lastSeq: s.stats.lastSeq,
});

/** `POST /packages`: validate the whole package, then store every session (idempotent by id). */
/** What the checks inflated: the client's work, with the bytes it sent (rate-limit.ts). */
const inflatedBytes = (pkg: ReadPackage): number => pkg.sessions.reduce((n, s) => n + s.stats.bytes, 0);

export const packageHandler =
  (d: PackagesDeps) =>
  (c: Context<AppEnv>): Promise<Response> =>
    inSlot(d, () => storePackage(c, d));

const storePackage = (c: Context<AppEnv>, d: PackagesDeps): Promise<Response> => {
  const receivedAt = d.now();
  return withPackage(c, d, (body, pkg) => storeRead(c, d, receivedAt, body, pkg));
};

const storeRead = async (c: Context<AppEnv>, d: PackagesDeps, receivedAt: number, body: PackageBody, pkg: ReadPackage): Promise<Response> => {
  addWork(c, inflatedBytes(pkg));
  const offset = clockOffset(receivedAt, body.sentAt, d.config.clockSkewThresholdMs, d.config.limits.maxClockOffsetMs);
  const m = pkg.manifest;
  const record: PackageRecord = {
    id: pkg.id,
    product: m.product,
    receivedAt,
    created: m.created,
    creator: m.creator,
    criteria: m.criteria,
    sessionIds: m.sessions.map((s) => s.id),
    ...(m.description !== undefined ? { description: m.description } : {}),
    ...(m.replyTo !== undefined ? { replyTo: m.replyTo } : {}),
    ...(m.problems !== undefined ? { problems: m.problems } : {}),
    ...(m.problemsOmitted !== undefined ? { problemsOmitted: m.problemsOmitted } : {}),
  };
  const sessions = await d.store.storePackage(
    record,
    pkg.sessions.map((s) => ({
      session: {
        summary: verified(s),
        ...(s.extra ? { extra: s.extra } : {}),
        startedAt: s.summary.startedAt + offset,
        ...(s.summary.endedAt !== undefined ? { endedAt: s.summary.endedAt + offset } : {}),
        clockOffsetMs: offset,
        receivedAt,
        ...(body.sentAt !== undefined ? { sentAt: body.sentAt } : {}),
      },
      detail: {
        sessionId: s.summary.id,
        sha256: s.sha256,
        compressedBytes: s.compressedBytes,
        bytes: s.stats.bytes,
        messageCount: s.stats.messageCount,
        counts: s.stats.counts,
        lastSeq: s.stats.lastSeq,
        receivedAt,
      },
      blob: s.blob,
    })),
  );
  d.log.info('package stored', { package: pkg.id, sessions: sessions.length, new: sessions.filter((s) => s.stored === 'new').length });
  const reply: PackageReply = { package: pkg.id, sessions };
  return c.json(reply, 200);
};

/** `POST /packages/email`: validate the package exactly as for storing, then relay it by SMTP. */
export const emailHandler =
  (d: PackagesDeps) =>
  async (c: Context<AppEnv>): Promise<Response> => {
    const key = c.get('ingest');
    const to = d.config.products[key.product]?.emailTo ?? d.config.email?.to ?? [];
    if (!d.mailer || to.length === 0) throw new ApiError(404, 'email-not-configured', `this collector relays no email for product "${key.product}"`);
    const mailer = d.mailer;
    return inSlot(d, () => relayPackage(c, d, mailer, to));
  };

const relayPackage = (c: Context<AppEnv>, d: PackagesDeps, mailer: Mailer, to: readonly string[]): Promise<Response> =>
  withPackage(c, d, (body, pkg) => relayRead(c, d, mailer, to, body, pkg));

const relayRead = async (
  c: Context<AppEnv>,
  d: PackagesDeps,
  mailer: Mailer,
  to: readonly string[],
  body: PackageBody,
  pkg: ReadPackage,
): Promise<Response> => {
  addWork(c, inflatedBytes(pkg));
  // The attachment is the one place the whole zip is in memory (an emailed package is small
  // enough to mail; the relay is bounded by the package slots like storing).
  const zip = await body.zip.read(0, body.zip.size);
  let messageId: string;
  try {
    messageId = await mailer.sendPackage({ to, manifest: pkg.manifest, zip, packageId: pkg.id });
  } catch (e) {
    d.log.error('email relay failed', { package: pkg.id, err: e });
    throw new ApiError(502, 'email-failed', 'the SMTP server did not accept the message; retry later');
  }
  d.log.info('package emailed', { package: pkg.id, to: to.length, messageId });
  const reply: EmailReply = { sent: true, messageId };
  return c.json(reply, 200);
};
