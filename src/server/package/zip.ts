/**
 * A small, strict ZIP reader for untrusted packages: it reads the central directory (refusing
 * more entries than allowed before parsing them), refuses unsafe names, encryption and ZIP64,
 * and inflates an entry with its output counted as it is produced (fflate's inflate has no
 * output cap; Node's zlib streams let us stop at the limit).
 */
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

export const readZipDirectory = (zip: Buffer, maxEntries: number): ZipEntry[] => {
  if (zip.length < 22) throw bad('not a zip file (too short)');
  let eocd = -1;
  for (let i = zip.length - 22; i >= Math.max(0, zip.length - 22 - 0xffff); i--) {
    if (zip.readUInt32LE(i) === EOCD_SIG) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw bad('not a zip file (no end of central directory)');
  // The record and its comment end the file: bytes after them are not part of any zip a packager
  // writes (they would be a second archive appended, or junk a reader may take for the directory).
  const end = eocd + 22 + zip.readUInt16LE(eocd + 20);
  if (end > zip.length) throw bad('the end of central directory record runs past the end of the file');
  if (end < zip.length) throw bad(`${zip.length - end} bytes of trailing data after the end of central directory record`);
  const total = zip.readUInt16LE(eocd + 10);
  const cdSize = zip.readUInt32LE(eocd + 12);
  const cdOffset = zip.readUInt32LE(eocd + 16);
  if (total === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) throw bad('ZIP64 archives are not accepted');
  if (zip.readUInt16LE(eocd + 4) !== 0 || zip.readUInt16LE(eocd + 6) !== 0) throw bad('multi-disk archives are not accepted');
  if (total > maxEntries) throw new ApiError(413, 'too-large', `package has ${total} entries, the limit is ${maxEntries}`);
  if (cdOffset + cdSize > eocd) throw bad('central directory lies outside the file');
  // Without ZIP64 the directory ends where its end record starts; a gap is data no entry owns
  // (e.g. a second archive appended to the first, whose end record was found instead).
  if (cdOffset + cdSize < eocd) throw bad(`${eocd - cdOffset - cdSize} bytes of unexplained data before the end of central directory record`);

  const entries: ZipEntry[] = [];
  const names = new Set<string>();
  let p = cdOffset;
  while (p < cdOffset + cdSize) {
    if (entries.length >= maxEntries) throw new ApiError(413, 'too-large', `package has more than ${maxEntries} entries`);
    if (p + 46 > zip.length || zip.readUInt32LE(p) !== CEN_SIG) throw bad('corrupt central directory');
    const flags = zip.readUInt16LE(p + 8);
    const method = zip.readUInt16LE(p + 10);
    const crc = zip.readUInt32LE(p + 16);
    const compressedSize = zip.readUInt32LE(p + 20);
    const size = zip.readUInt32LE(p + 24);
    const nameLen = zip.readUInt16LE(p + 28);
    const extraLen = zip.readUInt16LE(p + 30);
    const commentLen = zip.readUInt16LE(p + 32);
    const localOffset = zip.readUInt32LE(p + 42);
    if (p + 46 + nameLen > zip.length) throw bad('corrupt central directory');
    const name = zip.toString('utf8', p + 46, p + 46 + nameLen);
    p += 46 + nameLen + extraLen + commentLen;

    checkEntryName(name);
    if (names.has(name)) throw bad(`zip entry ${JSON.stringify(name)} appears twice`);
    names.add(name);
    if (flags & 0x1) throw bad(`zip entry ${JSON.stringify(name)} is encrypted`);
    if (compressedSize === 0xffffffff || size === 0xffffffff || localOffset === 0xffffffff) throw bad('ZIP64 entries are not accepted');
    if (method !== 0 && method !== 8) throw bad(`zip entry ${JSON.stringify(name)} uses compression method ${method} (only stored and deflate)`);
    if (localOffset + 30 > zip.length || zip.readUInt32LE(localOffset) !== LOC_SIG) throw bad(`zip entry ${JSON.stringify(name)} has no local header`);
    const dataOffset = localOffset + 30 + zip.readUInt16LE(localOffset + 26) + zip.readUInt16LE(localOffset + 28);
    if (dataOffset + compressedSize > zip.length) throw bad(`zip entry ${JSON.stringify(name)} runs past the end of the file`);
    entries.push({ name, method, crc32: crc, compressedSize, size, dataOffset, isDirectory: name.endsWith('/') });
  }
  return entries;
};

export const entryData = (zip: Buffer, e: ZipEntry): Buffer => zip.subarray(e.dataOffset, e.dataOffset + e.compressedSize);

/**
 * Decompresses one entry, refusing it as soon as the output passes `maxBytes`, and checks the
 * size and CRC-32 the directory declared.
 */
export const inflateEntry = async (zip: Buffer, e: ZipEntry, maxBytes: number): Promise<Buffer> => {
  if (e.size > maxBytes) throw new ApiError(413, 'too-large', `zip entry ${e.name} declares ${e.size} bytes, the limit is ${maxBytes}`);
  const raw = entryData(zip, e);
  let out: Buffer;
  if (e.method === 0) {
    out = raw;
  } else {
    const parts: Buffer[] = [];
    let n = 0;
    const inflate = createInflateRaw();
    inflate.end(raw);
    try {
      for await (const chunk of inflate) {
        n += (chunk as Buffer).length;
        if (n > maxBytes) throw new ApiError(413, 'too-large', `zip entry ${e.name} decompresses to more than ${maxBytes} bytes`);
        parts.push(chunk as Buffer);
      }
    } catch (err) {
      inflate.destroy();
      if (err instanceof ApiError) throw err;
      throw bad(`zip entry ${e.name} is not valid deflate data (${(err as Error).message})`);
    }
    // The inflater stops at the end of the deflate stream and ignores what follows; the entry's
    // data must be that stream exactly, since it becomes the stored gzip blob as it is.
    if (inflate.bytesWritten !== raw.length)
      throw bad(`zip entry ${e.name} has ${raw.length - inflate.bytesWritten} bytes of trailing data after its deflate stream`);
    out = Buffer.concat(parts, n);
  }
  if (out.length !== e.size) throw bad(`zip entry ${e.name} is ${out.length} bytes, its header says ${e.size}`);
  if (crc32(out) >>> 0 !== e.crc32) throw bad(`zip entry ${e.name} fails its CRC-32 check`);
  return out;
};

/**
 * A gzip file made from an entry's deflate data without recompressing: gzip is the same raw
 * deflate stream between a 10-byte header and a CRC-32 + length trailer (RFC 1952).
 */
export const gzipFromDeflated = (deflated: Buffer, crc: number, size: number): Buffer => {
  const header = Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff]);
  const trailer = Buffer.alloc(8);
  trailer.writeUInt32LE(crc >>> 0, 0);
  trailer.writeUInt32LE(size >>> 0, 4);
  return Buffer.concat([header, deflated, trailer]);
};
