/**
 * Reads a zip's directory from a Blob without loading the whole file, and streams one entry's
 * content with its CRC-32 and size checked. Refuses what a package never contains: encryption,
 * ZIP64, multi-disk archives, unsafe names, methods other than stored and deflate.
 */
import { Inflate } from 'fflate';
import { crc32 } from './crc32.js';
import type { CompressionEngine } from './engine.js';
import { gzipHeader, gzipTrailer } from './gzipFrame.js';

export class PackageReadError extends Error {
  override name = 'PackageReadError';
}

export interface ZipEntryInfo {
  name: string;
  method: number;
  crc: number;
  compressedSize: number;
  size: number;
  localOffset: number;
}

const EOCD = 0x06054b50;
const CEN = 0x02014b50;
const LOC = 0x04034b50;
const bad = (detail: string): PackageReadError => new PackageReadError(detail);

const bytesOf = async (blob: Blob, start: number, end: number): Promise<DataView> => {
  const buf = await blob.slice(start, end).arrayBuffer();
  return new DataView(buf);
};

const isUnsafeName = (name: string): boolean =>
  name === '' ||
  name.includes('\0') ||
  name.includes('\\') ||
  name.startsWith('/') ||
  /^[A-Za-z]:/.test(name) ||
  name.split('/').some((seg, i, all) => seg === '..' || seg === '.' || (seg === '' && i < all.length - 1));

export const readZipDirectory = async (blob: Blob, maxEntries: number): Promise<ZipEntryInfo[]> => {
  if (blob.size < 22) throw bad(`not a zip file: ${blob.size} bytes is shorter than any zip`);
  const tailStart = Math.max(0, blob.size - 22 - 0xffff);
  const tail = await bytesOf(blob, tailStart, blob.size);
  let eocd = -1;
  for (let i = tail.byteLength - 22; i >= 0; i--) {
    if (tail.getUint32(i, true) === EOCD) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) {
    const head = await bytesOf(blob, 0, 4);
    throw bad(
      head.getUint32(0, true) === LOC
        ? 'the zip file is truncated: its end-of-central-directory record is missing'
        : 'not a zip file: no end-of-central-directory record',
    );
  }
  if (tail.getUint16(eocd + 4, true) !== 0 || tail.getUint16(eocd + 6, true) !== 0) throw bad('multi-disk zip files are not supported');
  const total = tail.getUint16(eocd + 10, true);
  const cdSize = tail.getUint32(eocd + 12, true);
  const cdOffset = tail.getUint32(eocd + 16, true);
  if (total === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) throw bad('ZIP64 files are not supported');
  if (total > maxEntries) throw bad(`the package has ${total} entries; at most ${maxEntries} are allowed`);
  if (cdOffset + cdSize > tailStart + eocd) throw bad('the zip file is truncated or corrupt: its central directory lies outside the file');

  const cd = await bytesOf(blob, cdOffset, cdOffset + cdSize);
  const decoder = new TextDecoder();
  const entries: ZipEntryInfo[] = [];
  const names = new Set<string>();
  let p = 0;
  while (p < cd.byteLength) {
    if (entries.length >= total) throw bad('the central directory holds more entries than it declares');
    if (p + 46 > cd.byteLength || cd.getUint32(p, true) !== CEN) throw bad('the central directory is corrupt');
    const flags = cd.getUint16(p + 8, true);
    const method = cd.getUint16(p + 10, true);
    const nameLen = cd.getUint16(p + 28, true);
    if (p + 46 + nameLen > cd.byteLength) throw bad('the central directory is corrupt');
    const name = decoder.decode(new Uint8Array(cd.buffer, cd.byteOffset + p + 46, nameLen));
    const e: ZipEntryInfo = {
      name,
      method,
      crc: cd.getUint32(p + 16, true),
      compressedSize: cd.getUint32(p + 20, true),
      size: cd.getUint32(p + 24, true),
      localOffset: cd.getUint32(p + 42, true),
    };
    p += 46 + nameLen + cd.getUint16(p + 30, true) + cd.getUint16(p + 32, true);
    const quoted = JSON.stringify(name.slice(0, 200));
    if (isUnsafeName(name)) throw bad(`entry ${quoted} is not a safe relative path`);
    if (names.has(name)) throw bad(`entry ${quoted} appears twice`);
    names.add(name);
    if (flags & 1) throw bad(`entry ${quoted} is encrypted`);
    if (method !== 0 && method !== 8) throw bad(`entry ${quoted} uses compression method ${method} (only stored and deflate are read)`);
    if (e.compressedSize === 0xffffffff || e.size === 0xffffffff || e.localOffset === 0xffffffff) throw bad('ZIP64 entries are not supported');
    if (e.localOffset + 30 + e.compressedSize > cdOffset) throw bad(`entry ${quoted} runs past the end of the data`);
    entries.push(e);
  }
  if (entries.length !== total) throw bad(`the central directory declares ${total} entries but holds ${entries.length}`);
  return entries;
};

/** Streams an entry's uncompressed bytes; the stream errors with a PackageReadError on any damage. */
export const entryStream = async (blob: Blob, e: ZipEntryInfo, engine: CompressionEngine): Promise<ReadableStream<Uint8Array>> => {
  const local = await bytesOf(blob, e.localOffset, e.localOffset + 30);
  if (local.getUint32(0, true) !== LOC) throw bad(`entry ${e.name} has no local header`);
  const start = e.localOffset + 30 + local.getUint16(26, true) + local.getUint16(28, true);
  if (start + e.compressedSize > blob.size) throw bad(`entry ${e.name} runs past the end of the file`);
  const data = blob.slice(start, start + e.compressedSize);
  if (e.method === 8 && engine.kind === 'native') {
    // Framed as a gzip member, the native inflater checks the CRC-32 and length itself.
    const gz = new Blob([gzipHeader() as Uint8Array<ArrayBuffer>, data, gzipTrailer(e.crc, e.size) as Uint8Array<ArrayBuffer>]);
    return gz.stream().pipeThrough(new DecompressionStream('gzip'));
  }
  return data.stream().pipeThrough(checkedInflate(e));
};

/** The error readers throw for a damaged entry, whatever the inflater said. */
export const damaged = (name: string, cause: unknown): PackageReadError =>
  cause instanceof PackageReadError
    ? cause
    : bad(`entry ${name} is damaged (${cause instanceof Error ? cause.message : String(cause)}): the package is corrupt or truncated`);

const checkedInflate = (e: ZipEntryInfo): TransformStream<Uint8Array, Uint8Array> => {
  let crc = 0;
  let size = 0;
  let inflate: Inflate | undefined;
  return new TransformStream<Uint8Array, Uint8Array>({
    start(controller) {
      if (e.method === 8)
        inflate = new Inflate((chunk) => {
          crc = crc32(chunk, crc);
          size += chunk.length;
          controller.enqueue(chunk);
        });
    },
    transform(chunk, controller) {
      if (inflate) inflate.push(chunk, false);
      else {
        crc = crc32(chunk, crc);
        size += chunk.length;
        controller.enqueue(chunk);
      }
    },
    flush() {
      inflate?.push(new Uint8Array(0), true);
      if (size !== e.size) throw bad(`entry ${e.name} is ${size} bytes, its header says ${e.size}`);
      if (crc !== e.crc) throw bad(`entry ${e.name} fails its CRC-32 check`);
    },
  });
};
