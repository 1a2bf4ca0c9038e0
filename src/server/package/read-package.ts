/**
 * Reads and validates a whole package before anything is stored: the zip directory with its
 * limits, the manifest, and every session's NDJSON (its lines must belong to that session),
 * each entry streamed through the checks rather than inflated whole. The result holds each
 * session's detail as a gzip blob ready for the store: a file in `blobDir` when one is given (a
 * spooled package body; memory stays flat whatever the package's size), else bytes in memory.
 */
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { MANIFEST_ENTRY, PACKAGE_LIMITS, sessionIdOfEntry } from '../../shared/package-format.js';
import type { SummaryExtra } from '../../shared/protocol.js';
import type { SessionSummary } from '../../shared/summary.js';
import { ApiError, FieldError, fieldRefusal } from '../errors.js';
import { createNdjsonChecker, type NdjsonStats } from '../ingest/ndjson-check.js';
import type { BlobSource } from '../store/blobs.js';
import { type CheckedManifest, checkManifest } from '../validate/manifest.js';
import { bufferSource, entryData, gzipFromDeflated, inflateEntry, readZipDirectory, scanEntry, type ZipEntry, type ZipSource } from './zip.js';

export interface PackageLimits {
  packageEntries: number;
  decompressedBytes: number;
  packageTotalBytes: number;
}

export interface PackageSession {
  summary: SessionSummary;
  /** The summary's fields this collector does not know, kept within bounds. */
  extra?: SummaryExtra;
  /** The gzip blob of its NDJSON. */
  blob: BlobSource;
  compressedBytes: number;
  sha256: string;
  stats: NdjsonStats;
}

export interface ReadPackage {
  /** Hex SHA-256 of the zip file. */
  id: string;
  manifest: CheckedManifest;
  sessions: PackageSession[];
}

const bad = (detail: string): ApiError => new ApiError(400, 'bad-package', detail);

export interface ReadPackageOptions {
  /** Write each session's blob to a file here (else it is kept in memory). */
  blobDir?: string;
  /** Hex SHA-256 of the whole zip, when the caller hashed it on the way in. */
  sha256?: string;
}

const sha256Of = async (parts: AsyncIterable<Buffer>): Promise<string> => {
  const h = createHash('sha256');
  for await (const p of parts) h.update(p);
  return h.digest('hex');
};

/** Writes (or collects) a blob from its parts, hashing it on the way. */
const makeBlob = async (parts: AsyncIterable<Buffer>, file: string | undefined): Promise<{ blob: BlobSource; sha256: string; compressedBytes: number }> => {
  const h = createHash('sha256');
  let n = 0;
  async function* hashed(): AsyncGenerator<Buffer> {
    for await (const p of parts) {
      h.update(p);
      n += p.length;
      yield p;
    }
  }
  if (file === undefined) {
    const out: Buffer[] = [];
    for await (const p of hashed()) out.push(p);
    return { blob: { bytes: Buffer.concat(out) }, sha256: h.digest('hex'), compressedBytes: n };
  }
  await pipeline(hashed(), createWriteStream(file));
  return { blob: { file }, sha256: h.digest('hex'), compressedBytes: n };
};

export const readPackage = async (zip: Buffer | ZipSource, limits: PackageLimits, o: ReadPackageOptions = {}): Promise<ReadPackage> => {
  const src = Buffer.isBuffer(zip) ? bufferSource(zip) : zip;
  const entries = await readZipDirectory(src, limits.packageEntries);
  const byName = new Map(entries.map((e) => [e.name, e]));
  const manifestEntry = byName.get(MANIFEST_ENTRY);
  if (!manifestEntry) throw bad(`package has no ${MANIFEST_ENTRY}`);
  let total = 0;
  const count = (n: number): void => {
    total += n;
    if (total > limits.packageTotalBytes) throw new ApiError(413, 'too-large', `package decompresses to more than ${limits.packageTotalBytes} bytes`);
  };

  const manifestBytes = await inflateEntry(src, manifestEntry, PACKAGE_LIMITS.maxManifestBytes);
  count(manifestBytes.length);
  let manifest: CheckedManifest;
  try {
    manifest = checkManifest(JSON.parse(manifestBytes.toString('utf8')));
  } catch (e) {
    if (e instanceof FieldError) throw fieldRefusal(e);
    if (e instanceof SyntaxError) throw new ApiError(400, 'malformed-json', `${MANIFEST_ENTRY} is not JSON`);
    throw e;
  }

  const listed = new Map(manifest.sessions.map((s) => [s.id, s]));
  const sessionEntries = new Map<string, ZipEntry>();
  for (const e of entries) {
    const id = sessionIdOfEntry(e.name);
    if (id === undefined) continue; // the manifest, directories, and names a newer packager may add
    if (!listed.has(id)) throw bad(`zip entry ${e.name} is not a session listed in ${MANIFEST_ENTRY}`);
    sessionEntries.set(id, e);
  }

  const sessions: PackageSession[] = [];
  for (const [i, summary] of manifest.sessions.entries()) {
    const e = sessionEntries.get(summary.id);
    if (!e) throw bad(`session ${summary.id} is listed in ${MANIFEST_ENTRY} but has no entry`);
    const checker = createNdjsonChecker(summary.id, `zip entry ${e.name}`);
    // A bad line is reported only once the entry's size and CRC-32 passed: a corrupted entry is
    // named as corrupted, not by whatever its damage made of a line.
    let lineError: unknown;
    await scanEntry(src, e, limits.decompressedBytes, (chunk) => {
      count(chunk.length);
      if (lineError !== undefined) return;
      try {
        checker.push(chunk);
      } catch (err) {
        lineError = err;
      }
    });
    if (lineError !== undefined) throw lineError;
    const stats = checker.end();
    // A second pass over the entry once it is known good: deflate data becomes the gzip blob as
    // it is (gzip is the same stream between a header and a trailer); stored data is gzipped.
    const parts =
      e.method === 8 ? gzipFromDeflated(entryData(src, e), e.crc32, e.size) : (Readable.from(entryData(src, e)).pipe(createGzip()) as AsyncIterable<Buffer>);
    const made = await makeBlob(parts, o.blobDir === undefined ? undefined : join(o.blobDir, `${i}.gz`));
    const extra = manifest.extra[i]?.fields;
    sessions.push({ summary, ...(extra ? { extra } : {}), ...made, stats });
  }
  return { id: o.sha256 ?? (await sha256Of(src.stream(0, src.size))), manifest, sessions };
};
