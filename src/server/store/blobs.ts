/**
 * Content-addressed blob files: `<dir>/<sha[0..2]>/<sha>.gz`. A blob is written to a temp file,
 * fsynced, renamed into place and its directory fsynced, so a blob the database points to
 * survives a crash; a blob without a database row is invisible (and harmless).
 */
import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, open, readFile, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';

/** Where a blob's bytes are: in memory, or in a file the store copies. */
export type BlobSource = { bytes: Uint8Array } | { file: string };

/** Blob bytes by SHA-256: files on a disk (`createBlobStore`) or objects in S3 (`s3-blobs.ts`). */
export interface BlobStore {
  readonly kind: 'files' | 's3';
  /** Whether the blob is stored. */
  has(sha256: string): Promise<boolean>;
  /** Idempotent: a blob already present is not rewritten. Resolves once the bytes are durable. */
  put(sha256: string, source: BlobSource): Promise<void>;
  read(sha256: string): Promise<Buffer | undefined>;
  remove(sha256: string): Promise<void>;
  /** Throws when the storage cannot be reached (readiness). */
  ping(): Promise<void>;
}

const SHA_RE = /^[0-9a-f]{64}$/;

const fsyncPath = async (p: string): Promise<void> => {
  const fh = await open(p, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
};

export const createBlobStore = async (dir: string): Promise<BlobStore> => {
  const tmp = join(dir, 'tmp');
  await mkdir(tmp, { recursive: true });
  // Leftovers of writes interrupted by a crash.
  await rm(tmp, { recursive: true, force: true });
  await mkdir(tmp, { recursive: true });

  const path = (sha: string): string => {
    if (!SHA_RE.test(sha)) throw new Error(`not a sha256: ${sha}`);
    return join(dir, sha.slice(0, 2), `${sha}.gz`);
  };

  const exists = async (p: string): Promise<boolean> => {
    try {
      return (await stat(p)).isFile();
    } catch {
      return false;
    }
  };

  return {
    kind: 'files',
    has: (sha) => exists(path(sha)),
    async put(sha, source) {
      const final = path(sha);
      if (await exists(final)) return;
      const sub = join(dir, sha.slice(0, 2));
      const created = await mkdir(sub, { recursive: true });
      const t = join(tmp, `${sha}.${randomBytes(6).toString('hex')}`);
      try {
        if ('bytes' in source) {
          const fh = await open(t, 'w');
          try {
            await fh.writeFile(source.bytes);
            await fh.sync();
          } finally {
            await fh.close();
          }
        } else {
          await pipeline(createReadStream(source.file), createWriteStream(t));
          await fsyncPath(t);
        }
        await rename(t, final);
      } catch (e) {
        await rm(t, { force: true });
        throw e;
      }
      await fsyncPath(sub);
      // The blob root changed only if the subdirectory is new.
      if (created !== undefined) await fsyncPath(dir);
    },
    async read(sha) {
      try {
        return await readFile(path(sha));
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw e;
      }
    },
    async remove(sha) {
      await rm(path(sha), { force: true });
    },
    async ping() {
      await stat(tmp);
    },
  };
};
