/**
 * A small, strict ZIP reader for untrusted packages: it reads the central directory (refusing
 * more entries than allowed before parsing them), refuses unsafe names, encryption and ZIP64,
 * and inflates an entry with its output counted as it is produced (fflate's inflate has no
 * output cap; Node's zlib streams let us stop at the limit).
 */
import { once } from 'node:events';
import type { FileHandle } from 'node:fs/promises';
import { crc32, createInflateRaw } from 'node:zlib';
import { ApiError } from '../errors.js';

export interface ZipEntry {
  name: string;
  method: number;
  crc32: number;
  compressedSize: number;
  size: number;
  /** Offset of the entry's compressed data in the archive. */
  dataOffset: number;
  isDirectory: boolean;
}

const bad = (detail: string): ApiError => new ApiError(400, 'bad-package', detail);

const EOCD_SIG = 0x06054b50;
const CEN_SIG = 0x02014b50;
const LOC_SIG = 0x04034b50;

/** Names must be plain relative paths: no traversal, no absolute paths, no backslashes or drives. */
export const checkEntryName = (name: string): void => {
  const unsafe =
    name === '' ||
    name.includes('\0') ||
    name.includes('\\') ||
    name.startsWith('/') ||
    /^[A-Za-z]:/.test(name) ||
    name.split('/').some((seg, i, all) => seg === '..' || seg === '.' || (seg === '' && i < all.length - 1));
  if (unsafe) throw bad(`zip entry name ${JSON.stringify(name.slice(0, 200))} is not a safe relative path`);
};

/**
 * Where a zip's bytes are: a Buffer (tests, small callers), or a range of a file (a package body
 * spooled to disk, whole or as one part of a multipart body), read in pieces and streamed.
 */
export interface ZipSource {
  readonly size: number;
  read(offset: number, length: number): Promise<Buffer>;
  /** Bytes [offset, offset + length) in chunks of at most 64 KiB. */
  stream(offset: number, length: number): AsyncIterable<Buffer>;
}

const CHUNK = 64 * 1024;

export const bufferSource = (zip: Buffer): ZipSource => ({
  size: zip.length,
  read: async (offset, length) => zip.subarray(offset, offset + length),
  async *stream(offset, length) {
    for (let p = offset; p < offset + length; p += CHUNK) yield zip.subarray(p, Math.min(offset + length, p + CHUNK));
  },
});

/** Bytes [start, start + size) of an open file. */
export const fileSource = (fh: FileHandle, start: number, size: number): ZipSource => ({
  size,
  async read(offset, length) {
    const buf = Buffer.alloc(length);
    const { bytesRead } = await fh.read(buf, 0, length, start + offset);
    return buf.subarray(0, bytesRead);
  },
  async *stream(offset, length) {
    // One buffer per chunk: a consumer may keep a chunk (the NDJSON checker keeps a partial line).
    for (let p = offset; p < offset + length; p += CHUNK) {
      const n = Math.min(CHUNK, offset + length - p);
      const buf = Buffer.alloc(n);
      const { bytesRead } = await fh.read(buf, 0, n, start + p);
      if (bytesRead === 0) return;
      yield bytesRead === n ? buf : buf.subarray(0, bytesRead);
    }
  },
});

/** Bound of the central directory's bytes per entry (46-byte header, name, extra field, comment). */
const MAX_CEN_BYTES_PER_ENTRY = 4096;

export const readZipDirectory = async (src: ZipSource, maxEntries: number): Promise<ZipEntry[]> => {
  if (src.size < 22) throw bad('not a zip file (too short)');
  const tailStart = Math.max(0, src.size - 22 - 0xffff);
  const tail = await src.read(tailStart, src.size - tailStart);
  let eocdAt = -1;
  for (let i = tail.length - 22; i >= 0; i--) {
    if (tail.readUInt32LE(i) === EOCD_SIG) {
      eocdAt = i;
      break;
    }
  }
  if (eocdAt < 0) throw bad('not a zip file (no end of central directory)');
  const eocd = tailStart + eocdAt;
  // The record and its comment end the file: bytes after them are not part of any zip a packager
  // writes (they would be a second archive appended, or junk a reader may take for the directory).
  const end = eocd + 22 + tail.readUInt16LE(eocdAt + 20);
  if (end > src.size) throw bad('the end of central directory record runs past the end of the file');
  if (end < src.size) throw bad(`${src.size - end} bytes of trailing data after the end of central directory record`);
  const total = tail.readUInt16LE(eocdAt + 10);
  const cdSize = tail.readUInt32LE(eocdAt + 12);
  const cdOffset = tail.readUInt32LE(eocdAt + 16);
  if (total === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) throw bad('ZIP64 archives are not accepted');
  if (tail.readUInt16LE(eocdAt + 4) !== 0 || tail.readUInt16LE(eocdAt + 6) !== 0) throw bad('multi-disk archives are not accepted');
  if (total > maxEntries) throw new ApiError(413, 'too-large', `package has ${total} entries, the limit is ${maxEntries}`);
  if (cdOffset + cdSize > eocd) throw bad('central directory lies outside the file');
  // Without ZIP64 the directory ends where its end record starts; a gap is data no entry owns
  // (e.g. a second archive appended to the first, whose end record was found instead).
  if (cdOffset + cdSize < eocd) throw bad(`${eocd - cdOffset - cdSize} bytes of unexplained data before the end of central directory record`);
  // Read whole, so bounded: a directory cannot be larger than its entries need.
  if (cdSize > (total + 1) * MAX_CEN_BYTES_PER_ENTRY) throw bad(`the central directory is ${cdSize} bytes for ${total} entries`);
  const cd = await src.read(cdOffset, cdSize);

  const entries: ZipEntry[] = [];
  const names = new Set<string>();
  let p = 0;
  while (p < cd.length) {
    if (entries.length >= maxEntries) throw new ApiError(413, 'too-large', `package has more than ${maxEntries} entries`);
    if (p + 46 > cd.length || cd.readUInt32LE(p) !== CEN_SIG) throw bad('corrupt central directory');
    const flags = cd.readUInt16LE(p + 8);
    const method = cd.readUInt16LE(p + 10);
    const crc = cd.readUInt32LE(p + 16);
    const compressedSize = cd.readUInt32LE(p + 20);
    const size = cd.readUInt32LE(p + 24);
    const nameLen = cd.readUInt16LE(p + 28);
    const extraLen = cd.readUInt16LE(p + 30);
    const commentLen = cd.readUInt16LE(p + 32);
    const localOffset = cd.readUInt32LE(p + 42);
    if (p + 46 + nameLen > cd.length) throw bad('corrupt central directory');
    const name = cd.toString('utf8', p + 46, p + 46 + nameLen);
    p += 46 + nameLen + extraLen + commentLen;

    checkEntryName(name);
    if (names.has(name)) throw bad(`zip entry ${JSON.stringify(name)} appears twice`);
    names.add(name);
    if (flags & 0x1) throw bad(`zip entry ${JSON.stringify(name)} is encrypted`);
    if (compressedSize === 0xffffffff || size === 0xffffffff || localOffset === 0xffffffff) throw bad('ZIP64 entries are not accepted');
    if (method !== 0 && method !== 8) throw bad(`zip entry ${JSON.stringify(name)} uses compression method ${method} (only stored and deflate)`);
    const local = localOffset + 30 <= src.size ? await src.read(localOffset, 30) : Buffer.alloc(0);
    if (local.length < 30 || local.readUInt32LE(0) !== LOC_SIG) throw bad(`zip entry ${JSON.stringify(name)} has no local header`);
    const dataOffset = localOffset + 30 + local.readUInt16LE(26) + local.readUInt16LE(28);
    if (dataOffset + compressedSize > src.size) throw bad(`zip entry ${JSON.stringify(name)} runs past the end of the file`);
    entries.push({ name, method, crc32: crc, compressedSize, size, dataOffset, isDirectory: name.endsWith('/') });
  }
  return entries;
};

/** The entry's stored (compressed) bytes, streamed. */
export const entryData = (src: ZipSource, e: ZipEntry): AsyncIterable<Buffer> => src.stream(e.dataOffset, e.compressedSize);

/**
 * Streams one entry's decompressed bytes to `onChunk`, refusing it as soon as the output passes
 * `maxBytes`, and checks what the directory declared: the size, the CRC-32, and that a deflated
 * entry's data is one deflate stream and nothing after it (it becomes the stored gzip blob as it is).
 */
export const scanEntry = async (src: ZipSource, e: ZipEntry, maxBytes: number, onChunk: (chunk: Buffer) => void): Promise<void> => {
  if (e.size > maxBytes) throw new ApiError(413, 'too-large', `zip entry ${e.name} declares ${e.size} bytes, the limit is ${maxBytes}`);
  let n = 0;
  let crc = 0;
  const take = (chunk: Buffer): void => {
    n += chunk.length;
    if (n > maxBytes) throw new ApiError(413, 'too-large', `zip entry ${e.name} decompresses to more than ${maxBytes} bytes`);
    crc = crc32(chunk, crc);
    onChunk(chunk);
  };
  if (e.method === 0) {
    for await (const chunk of entryData(src, e)) take(chunk);
  } else {
    const inflate = createInflateRaw({ chunkSize: CHUNK });
    const feed = async (): Promise<void> => {
      for await (const chunk of entryData(src, e)) if (!inflate.write(chunk)) await once(inflate, 'drain');
      inflate.end();
    };
    const fed = feed().catch((err: unknown) => inflate.destroy(err as Error));
    try {
      for await (const chunk of inflate) take(chunk as Buffer);
      await fed;
    } catch (err) {
      inflate.destroy();
      if (err instanceof ApiError) throw err;
      throw bad(`zip entry ${e.name} is not valid deflate data (${(err as Error).message})`);
    }
    // The inflater stops at the end of the deflate stream and ignores what follows; the entry's
    // data must be that stream exactly, since it becomes the stored gzip blob as it is.
    if (inflate.bytesWritten !== e.compressedSize)
      throw bad(`zip entry ${e.name} has ${e.compressedSize - inflate.bytesWritten} bytes of trailing data after its deflate stream`);
  }
  if (n !== e.size) throw bad(`zip entry ${e.name} is ${n} bytes, its header says ${e.size}`);
  if (crc >>> 0 !== e.crc32) throw bad(`zip entry ${e.name} fails its CRC-32 check`);
};

/** One entry decompressed into memory (the manifest), with the checks of scanEntry. */
export const inflateEntry = async (src: ZipSource, e: ZipEntry, maxBytes: number): Promise<Buffer> => {
  const parts: Buffer[] = [];
  await scanEntry(src, e, maxBytes, (c) => parts.push(c));
  return Buffer.concat(parts);
};

/**
 * A gzip file made from an entry's deflate data without recompressing: gzip is the same raw
 * deflate stream between a 10-byte header and a CRC-32 + length trailer (RFC 1952).
 */
export async function* gzipFromDeflated(deflated: AsyncIterable<Buffer>, crc: number, size: number): AsyncGenerator<Buffer> {
  yield Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff]);
  yield* deflated;
  const trailer = Buffer.alloc(8);
  trailer.writeUInt32LE(crc >>> 0, 0);
  trailer.writeUInt32LE(size >>> 0, 4);
  yield trailer;
}
