/**
 * Detail uploads: tus 1.0.0 (core, creation, expiration) through `@tus/server`, with the upload
 * bytes in `<dataDir>/uploads` (or, with S3 blobs, in the bucket: s3-upload-store.ts, so any
 * replica resumes any upload) and every upload recorded in the store (so the summaries reply can
 * offer it for resuming, and so completed or expired uploads answer correctly even after their
 * files are gone). The SHA-256 travels in `Upload-Metadata` (`TUS.metadata.sha256`).
 *
 * Completion happens inside the PATCH that writes the last byte, while tus still holds the
 * upload's lock: verify SHA-256, gunzip with the size limit, check every line, store (fsync +
 * commit), and only then let tus answer 204. An invalid upload is discarded and the PATCH gets
 * the error; it never becomes a visible session.
 */
import { randomBytes } from 'node:crypto';
import { readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { FileStore } from '@tus/file-store';
import { type Locker, Server as TusServer, Upload } from '@tus/server';
import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { UUID_RE } from '../../shared/ids.js';
import { type ErrorBody, type ErrorCode, PATHS, TUS } from '../../shared/protocol.js';
import type { CollectorConfig } from '../config.js';
import type { AppEnv, IngestKey } from '../env.js';
import { ApiError, errorResponse } from '../errors.js';
import type { Logger } from '../log.js';
import { addWork } from '../middleware/rate-limit.js';
import { decideDetail } from '../policy.js';
import { publicOrigin } from '../public-url.js';
import type { Quota } from '../quota.js';
import { createS3Client } from '../store/s3-client.js';
import type { Store, UploadRecord } from '../store/types.js';
import { checkDetailFile } from './detail-check.js';
import { S3UploadStore } from './s3-upload-store.js';

const ID_RE = /^[0-9a-f]{32}$/;
const SHA_RE = /^[0-9a-f]{64}$/;
/** The smallest gzip stream (header + empty deflate block + trailer). */
const MIN_GZIP_BYTES = 20;
/** Records of finished or expired uploads are kept this long, so late clients get 410, not 404. */
const RECORD_RETENTION_MS = 7 * 24 * 3600_000;
/** Files without a record younger than this may be an upload being created right now. */
const ORPHAN_GRACE_MS = 60_000;

/** The shape `@tus/server` expects thrown from hooks and stores: it answers with this status and body. */
interface TusThrown {
  status_code: number;
  body: string;
}
const toTus = (e: ApiError): TusThrown => ({ status_code: e.status, body: JSON.stringify({ error: e.code, detail: e.detail } satisfies ErrorBody) });

type FinishFn = (id: string, file: string, upload: Upload) => Promise<void>;

/**
 * `@tus/server`'s extension point is a DataStore class, so this is the one non-error class in the
 * collector: FileStore plus "finish the upload when the last byte is written".
 */
class DetailFileStore extends FileStore {
  constructor(
    directory: string,
    expirationMs: number,
    private readonly finish: FinishFn,
    private readonly onCreate: (upload: Upload) => Promise<void>,
    private readonly completedLength: (id: string) => Promise<number | undefined>,
  ) {
    super({ directory, expirationPeriodInMilliseconds: expirationMs });
    // No deferred length (the size limit needs a declared length) and no termination.
    this.extensions = ['creation', 'creation-with-upload', 'expiration'];
  }

  override async create(upload: Upload): Promise<Upload> {
    const created = await super.create(upload);
    await this.onCreate(created);
    return created;
  }

  /** A completed upload's files are gone; it still reads as complete (its record says so). */
  override async getUpload(id: string): Promise<Upload> {
    try {
      return await super.getUpload(id);
    } catch (e) {
      const done = await this.completedLength(id);
      if (done === undefined) throw e;
      return new Upload({ id, size: done, offset: done });
    }
  }

  override async write(readable: Readable, id: string, offset: number): Promise<number> {
    const end = await super.write(readable, id, offset);
    const info = await this.configstore.get(id);
    if (info?.size !== undefined && end === info.size) await this.complete(id, info as Upload);
    return end;
  }

  /** Finishes an upload whose bytes are all written (the same call as S3UploadStore's). */
  complete(id: string, upload: Upload): Promise<void> {
    return this.finish(id, join(this.directory, id), upload);
  }
}

export interface UploadsOptions {
  config: CollectorConfig;
  store: Store;
  log: Logger;
  now: () => number;
  keys: ReadonlyMap<string, IngestKey>;
  /** Per-product disk quotas, checked as an upload is created. */
  quota: Quota;
  locker?: Locker;
}

export interface Uploads {
  /** Handles every tus request under `PATHS.uploads` (auth already checked). */
  handle(c: Context<AppEnv>): Promise<Response>;
  /** Bytes received so far by an open upload, or undefined when its file is gone. */
  offsetOf(id: string): Promise<number | undefined>;
  urlOf(req: Request, id: string): string;
  /** Expires old unfinished uploads, deletes their files and stray files, forgets old records. */
  sweep(): Promise<{ expired: number; orphans: number; purged: number }>;
  /** Resolves when no upload is being finished. */
  idle(): Promise<void>;
}

const TUS_CODES: Record<number, ErrorCode> = {
  400: 'bad-request',
  403: 'bad-request',
  404: 'not-found',
  409: 'offset-conflict',
  410: 'gone',
  412: 'bad-request',
  413: 'too-large',
  500: 'internal',
};

/** tus answers errors as text; clients of Ferry get `{ error, detail }` JSON from every endpoint. */
const jsonErrors = async (res: Response): Promise<Response> => {
  if (res.status < 400) return res;
  const text = res.body ? await res.text() : '';
  let body: ErrorBody | undefined;
  try {
    const v = JSON.parse(text) as ErrorBody;
    if (typeof v.error === 'string' && typeof v.detail === 'string') body = v;
  } catch {
    // plain tus text
  }
  // tus uses 403 for a missing Upload-Offset or Content-Type; in Ferry 403 means key or origin.
  const status = (res.status === 403 && !body ? 400 : res.status) as ContentfulStatusCode;
  const headers: Record<string, string> = {};
  res.headers.forEach((v, k) => {
    if (k !== 'content-length' && k !== 'content-type') headers[k] = v;
  });
  return errorResponse(
    status,
    (body?.error as ErrorCode) ?? TUS_CODES[status] ?? 'bad-request',
    body?.detail ?? (text.trim() || `tus error ${res.status}`),
    headers,
  );
};

export const createUploads = (o: UploadsOptions): Uploads => {
  const { config, store, log, now } = o;
  const directory = join(config.dataDir, 'uploads');
  const keyOf = new WeakMap<Request, IngestKey>();
  // The upload id the route validated (and checked against the key's product). tus would take the
  // id from the last `/` of the raw URL, query included (`<own id>?/<their id>`), so it is given
  // this one instead; a query string on an upload URL is ignored, never read as part of the id.
  const idOf = new WeakMap<Request, string>();
  const finishing = new Map<string, Promise<void>>();
  // Bytes inflated by the upload finished in a PATCH, for that request's work (rate-limit.ts).
  const inflated = new Map<string, number>();

  const urlOf = (req: Request, id: string): string => `${publicOrigin(req, config)}${PATHS.uploads}/${id}`;

  // With S3 (replicas) uploads in progress live in the bucket (s3-upload-store.ts).
  const blobsCfg = config.blobs;
  let s3Uploads: S3UploadStore | undefined;

  // FileStore.remove keeps the .json when the data file is already gone; this removes both.
  const removeFiles = async (id: string): Promise<void> => {
    if (s3Uploads) return s3Uploads.remove(id);
    await rm(join(directory, id), { force: true });
    await rm(join(directory, `${id}.json`), { force: true });
  };

  const discard = async (id: string): Promise<void> => {
    await store.discardUpload(id, now()).catch((e: unknown) => log.error('cannot mark upload discarded', { upload: id, err: e }));
    await removeFiles(id).catch(() => {});
  };

  const finishNow = async (id: string, file: string, upload: Upload): Promise<void> => {
    const meta = upload.metadata ?? {};
    const sessionId = meta[TUS.metadata.sessionId] as string;
    const sha256 = meta[TUS.metadata.sha256] as string;
    try {
      const stats = await checkDetailFile(file, { sessionId, sha256, maxDecompressedBytes: config.limits.decompressedBytes });
      inflated.set(id, stats.bytes);
      const result = await store.storeDetail(
        {
          sessionId,
          sha256,
          compressedBytes: upload.size ?? 0,
          bytes: stats.bytes,
          messageCount: stats.messageCount,
          counts: stats.counts,
          lastSeq: stats.lastSeq,
          receivedAt: now(),
        },
        { file },
        id,
      );
      log.info('detail stored', { session: sessionId, upload: id, result, messages: stats.messageCount, bytes: stats.bytes, compressed: upload.size });
    } catch (e) {
      // Nothing of an upload that fails here is kept: the client starts a new upload.
      await discard(id);
      if (e instanceof ApiError) {
        log.warn('detail refused', { session: sessionId, upload: id, error: e.code, detail: e.detail });
        throw toTus(e);
      }
      log.error('detail not stored', { session: sessionId, upload: id, err: e });
      throw toTus(new ApiError(500, 'internal', 'the detail could not be stored; upload it again'));
    }
    await removeFiles(id).catch((e: unknown) => log.warn('cannot remove finished upload files', { upload: id, err: e }));
  };

  // One finish per upload at a time (the final PATCH, or a HEAD recovering after a crash).
  const finish: FinishFn = (id, file, upload) => {
    let p = finishing.get(id);
    if (!p) {
      p = finishNow(id, file, upload).finally(() => finishing.delete(id));
      finishing.set(id, p);
    }
    return p;
  };

  const onCreate = async (upload: Upload): Promise<void> => {
    const meta = upload.metadata ?? {};
    const t = now();
    const rec: UploadRecord = {
      id: upload.id,
      sessionId: meta[TUS.metadata.sessionId] as string,
      product: meta[TUS.metadata.product] as string,
      length: upload.size ?? 0,
      sha256: meta[TUS.metadata.sha256] as string,
      createdAt: upload.creation_date ? Date.parse(upload.creation_date) : t,
      expiresAt: (upload.creation_date ? Date.parse(upload.creation_date) : t) + config.uploadExpirationMs,
      state: 'open',
    };
    await store.createUpload(rec);
  };

  const completedLength = async (id: string): Promise<number | undefined> => {
    const rec = await store.getUpload(id);
    return rec?.state === 'completed' ? rec.length : undefined;
  };
  const tmpDir = join(config.dataDir, 'upload-tmp');
  if (blobsCfg.kind === 's3')
    s3Uploads = new S3UploadStore({
      client: createS3Client(blobsCfg),
      bucket: blobsCfg.bucket,
      prefix: blobsCfg.prefix,
      expirationMs: config.uploadExpirationMs,
      finish,
      onCreate,
      completedLength,
      tmpDir,
    });
  const datastore = s3Uploads ?? new DetailFileStore(directory, config.uploadExpirationMs, finish, onCreate, completedLength);

  const checkCreate = async (req: Request, upload: Upload): Promise<void> => {
    const key = keyOf.get(req);
    if (!key) throw toTus(new ApiError(401, 'unauthorized', 'no ingest key'));
    const meta = upload.metadata ?? {};
    const known = Object.values(TUS.metadata) as string[];
    for (const k of Object.keys(meta)) {
      if (!known.includes(k)) throw toTus(new ApiError(400, 'invalid-field', `Upload-Metadata: unknown key ${k.slice(0, 64)} (expected ${known.join(', ')})`));
    }
    const value = (k: string): string => {
      const v = meta[k];
      if (typeof v !== 'string' || v === '') throw toTus(new ApiError(400, 'invalid-field', `Upload-Metadata: ${k} is required`));
      return v;
    };
    const sessionId = value(TUS.metadata.sessionId);
    if (!UUID_RE.test(sessionId)) throw toTus(new ApiError(400, 'invalid-field', 'Upload-Metadata: sessionId must be a lowercase UUID'));
    const product = value(TUS.metadata.product);
    if (product !== key.product)
      throw toTus(new ApiError(403, 'product-mismatch', `this ingest key belongs to product "${key.product}", not "${product.slice(0, 200)}"`));
    if (!SHA_RE.test(value(TUS.metadata.sha256))) throw toTus(new ApiError(400, 'invalid-field', 'Upload-Metadata: sha256 must be 64 lowercase hex digits'));
    if (upload.size === undefined || upload.size < MIN_GZIP_BYTES)
      throw toTus(new ApiError(400, 'invalid-field', `Upload-Length must be at least ${MIN_GZIP_BYTES} (a gzip stream)`));
    const session = await store.getSession(sessionId);
    if (!session || session.summary.product !== key.product)
      throw toTus(new ApiError(400, 'unknown-session', `no summary received for session ${sessionId}; POST ${PATHS.summaries} first`));
    // A session already stored may be uploaded again (a race between two senders): it completes as a no-op.
    if (!session.detail && decideDetail(key.policy, session.summary) === 'not-wanted')
      throw toTus(new ApiError(403, 'detail-not-wanted', `product "${key.product}" does not want detail for session ${sessionId}`));
  };

  const tus = new TusServer({
    path: PATHS.uploads,
    datastore,
    maxSize: config.limits.uploadBytes,
    // Ferry answers CORS itself (ingestCors); an empty list keeps tus from adding its own header.
    allowedOrigins: [],
    respectForwardedHeaders: config.trustProxy,
    namingFunction: () => randomBytes(16).toString('hex'),
    generateUrl: (req, { id }) => urlOf(req as unknown as Request, id),
    getFileIdFromRequest: (req: Request) => idOf.get(req),
    onUploadCreate: async (req, upload) => {
      await checkCreate(req as unknown as Request, upload);
      return { metadata: upload.metadata ?? {} };
    },
    ...(o.locker ? { locker: o.locker } : {}),
  } as ConstructorParameters<typeof TusServer>[0]);

  const offsetOf = async (id: string): Promise<number | undefined> => {
    try {
      return (await datastore.getUpload(id)).offset;
    } catch {
      return undefined;
    }
  };

  const completed = (method: string, rec: UploadRecord): Response => {
    const headers = {
      'Tus-Resumable': TUS.version,
      'Upload-Offset': String(rec.length),
      'Upload-Length': String(rec.length),
      'Cache-Control': 'no-store',
    };
    if (method === 'HEAD') return new Response(null, { status: 200, headers });
    return errorResponse(409, 'offset-conflict', 'this upload is complete and stored', headers);
  };

  return {
    urlOf,
    offsetOf,
    async handle(c) {
      const key = c.get('ingest');
      const req = c.req.raw;
      keyOf.set(req, key);
      const method = c.req.method;
      const id = c.req.param('id');
      if (id === undefined) {
        if (method === 'POST' && c.req.header('upload-length') === undefined)
          throw new ApiError(400, 'invalid-field', 'Upload-Length is required (Upload-Defer-Length is not supported)');
        if (method !== 'POST' && method !== 'OPTIONS') throw new ApiError(405, 'bad-request', `${method} is not allowed here`, { Allow: 'POST, OPTIONS' });
        // Before tus: the declared length reserves its room; a malformed one is tus's 400 below.
        const length = Number(c.req.header('upload-length'));
        if (method === 'POST' && Number.isSafeInteger(length) && length > 0) await o.quota.checkUpload(key.product, length);
        return jsonErrors(await tus.handleWeb(req));
      }
      if (!ID_RE.test(id)) throw new ApiError(404, 'not-found', 'no such upload');
      if (method !== 'HEAD' && method !== 'PATCH' && method !== 'OPTIONS')
        throw new ApiError(405, 'bad-request', `${method} is not allowed on an upload`, { Allow: 'HEAD, PATCH, OPTIONS' });
      const rec = await store.getUpload(id);
      if (!rec || rec.product !== key.product) throw new ApiError(404, 'not-found', 'no such upload');
      idOf.set(req, id);
      if (rec.state === 'completed') return completed(method, rec);
      if (rec.state === 'expired' || now() >= rec.expiresAt)
        throw new ApiError(410, 'gone', 'this upload expired or was discarded; create a new one', { 'Tus-Resumable': TUS.version });
      if (method === 'HEAD' && (await offsetOf(id)) === rec.length) {
        // All bytes arrived but the collector stopped before storing them (a crash): finish now,
        // so a complete offset is never reported for data that is not stored.
        // Under the upload's lock: on another replica the final PATCH may be finishing it now.
        const lock = o.locker?.newLock(id);
        try {
          await lock?.lock(new AbortController().signal, async () => {});
          try {
            if ((await store.getUpload(id))?.state !== 'completed') await datastore.complete(id, await datastore.getUpload(id));
          } finally {
            await lock?.unlock();
          }
        } catch {
          throw new ApiError(410, 'gone', 'this upload could not be completed; create a new one', { 'Tus-Resumable': TUS.version });
        } finally {
          addWork(c, inflated.get(id) ?? 0);
          inflated.delete(id);
        }
        return completed(method, { ...rec, state: 'completed' });
      }
      try {
        return jsonErrors(await tus.handleWeb(req));
      } finally {
        const n = inflated.get(id);
        inflated.delete(id);
        if (n) addWork(c, n);
      }
    },
    async sweep() {
      const t = now();
      const expired = await store.expireUploads(t);
      for (const u of expired) await removeFiles(u.id).catch(() => {});
      let orphans = 0;
      let names: string[] = [];
      try {
        names = await readdir(directory);
      } catch {
        names = [];
      }
      const present = new Set(names);
      for (const name of names) {
        const id = name.endsWith('.json') ? name.slice(0, -5) : name;
        if (!ID_RE.test(id) || finishing.has(id)) continue;
        // An upload is looked at through its .json; a data file alone is one whose .json was never
        // written (FileStore writes the data file first: a crash in between) or was lost.
        const alone = name === id && !present.has(`${id}.json`);
        if (name !== `${id}.json` && !alone) continue;
        const rec = await store.getUpload(id);
        let age = 0;
        try {
          age = t - (await stat(join(directory, name))).mtimeMs;
        } catch {
          continue;
        }
        // No record after the grace: the upload was never created (the record is written after
        // both files). An open record's files go when it expires (expireUploads above).
        if ((rec && rec.state !== 'open') || (!rec && age > ORPHAN_GRACE_MS)) {
          await removeFiles(id).catch(() => {});
          orphans++;
        }
      }
      for (const u of (await s3Uploads?.stored()) ?? []) {
        if (!ID_RE.test(u.id) || finishing.has(u.id)) continue;
        const rec = await store.getUpload(u.id);
        if ((rec && rec.state !== 'open') || (!rec && t - u.modifiedMs > ORPHAN_GRACE_MS)) {
          await removeFiles(u.id).catch(() => {});
          orphans++;
        }
      }
      // With S3, a PATCH body waits in upload-tmp while it is sent; a crash leaves it there. No
      // request lives as long as an upload's expiry, so a file that old is nobody's.
      let tmpNames: string[] = [];
      try {
        tmpNames = await readdir(tmpDir);
      } catch {
        tmpNames = [];
      }
      for (const name of tmpNames) {
        const file = join(tmpDir, name);
        try {
          if (t - (await stat(file)).mtimeMs <= config.uploadExpirationMs) continue;
          await rm(file, { force: true });
          orphans++;
        } catch {
          // gone meanwhile
        }
      }
      const purged = await store.purgeUploads(t - RECORD_RETENTION_MS);
      if (expired.length || orphans || purged) log.info('upload cleanup', { expired: expired.length, orphans, purged });
      return { expired: expired.length, orphans, purged };
    },
    async idle() {
      await Promise.allSettled([...finishing.values()]);
    },
  };
};
