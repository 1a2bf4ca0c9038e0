/**
 * Reads and validates a whole package before anything is stored: the zip directory with its
 * limits, the manifest, and every session's NDJSON (its lines must belong to that session).
 * The result holds each session's detail as a gzip blob ready for the store.
 */
import { createHash } from 'node:crypto';
import { promisify } from 'node:util';
import { gzip as gzipCb } from 'node:zlib';
import { MANIFEST_ENTRY, PACKAGE_LIMITS, sessionIdOfEntry } from '../../shared/package-format.js';
import type { SummaryExtra } from '../../shared/protocol.js';
import type { SessionSummary } from '../../shared/summary.js';
import { ApiError, FieldError, fieldRefusal } from '../errors.js';
import { createNdjsonChecker, type NdjsonStats } from '../ingest/ndjson-check.js';
import { type CheckedManifest, checkManifest } from '../validate/manifest.js';
import { entryData, gzipFromDeflated, inflateEntry, readZipDirectory, type ZipEntry } from './zip.js';

const gzip = promisify(gzipCb);

export interface PackageLimits {
  packageEntries: number;
  decompressedBytes: number;
  packageTotalBytes: number;
}

export interface PackageSession {
  summary: SessionSummary;
  /** The summary's fields this collector does not know, kept within bounds. */
  extra?: SummaryExtra;
  gz: Buffer;
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

export const readPackage = async (zip: Buffer, limits: PackageLimits): Promise<ReadPackage> => {
  const entries = readZipDirectory(zip, limits.packageEntries);
  const byName = new Map(entries.map((e) => [e.name, e]));
  const manifestEntry = byName.get(MANIFEST_ENTRY);
  if (!manifestEntry) throw bad(`package has no ${MANIFEST_ENTRY}`);
  let total = 0;
  const count = (n: number): void => {
    total += n;
    if (total > limits.packageTotalBytes) throw new ApiError(413, 'too-large', `package decompresses to more than ${limits.packageTotalBytes} bytes`);
  };

  const manifestBytes = await inflateEntry(zip, manifestEntry, PACKAGE_LIMITS.maxManifestBytes);
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
    const ndjson = await inflateEntry(zip, e, limits.decompressedBytes);
    count(ndjson.length);
    const checker = createNdjsonChecker(summary.id, `zip entry ${e.name}`);
    checker.push(ndjson);
    const stats = checker.end();
    const gz = e.method === 8 ? gzipFromDeflated(entryData(zip, e), e.crc32, e.size) : await gzip(ndjson);
    const extra = manifest.extra[i]?.fields;
    sessions.push({ summary, ...(extra ? { extra } : {}), gz, sha256: createHash('sha256').update(gz).digest('hex'), stats });
  }
  return { id: createHash('sha256').update(zip).digest('hex'), manifest, sessions };
};
