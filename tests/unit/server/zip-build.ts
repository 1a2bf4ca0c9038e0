/**
 * A zip writer for hostile test packages: each entry's stored bytes, method, CRC-32 and sizes are
 * given as they should appear, not computed from a valid stream, so tests can build zips no
 * library would write (deflate data followed by junk, bytes after the end record).
 */
import { crc32, deflateRawSync } from 'node:zlib';

export interface RawEntry {
  name: string;
  /** The bytes stored as the entry's data. */
  data: Uint8Array;
  method: 0 | 8;
  crc32: number;
  /** Uncompressed size as declared. */
  size: number;
}

/** An entry as a packager writes it: `content` deflated (or stored), CRC and size of `content`. */
export const entryOf = (name: string, content: Uint8Array | string, method: 0 | 8 = 8): RawEntry => {
  const bytes = typeof content === 'string' ? Buffer.from(content) : Buffer.from(content);
  return { name, data: method === 8 ? deflateRawSync(bytes) : bytes, method, crc32: crc32(bytes) >>> 0, size: bytes.length };
};

export const buildZip = (entries: readonly RawEntry[], o: { comment?: Uint8Array } = {}): Buffer => {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const e of entries) {
    const name = Buffer.from(e.name);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(0x0800, 6);
    local.writeUInt16LE(e.method, 8);
    local.writeUInt32LE(e.crc32 >>> 0, 14);
    local.writeUInt32LE(e.data.length, 18);
    local.writeUInt32LE(e.size, 22);
    local.writeUInt16LE(name.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(0x0800, 8);
    central.writeUInt16LE(e.method, 10);
    central.writeUInt32LE(e.crc32 >>> 0, 16);
    central.writeUInt32LE(e.data.length, 20);
    central.writeUInt32LE(e.size, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, name, Buffer.from(e.data));
    centrals.push(central, name);
    offset += 30 + name.length + e.data.length;
  }
  const cd = Buffer.concat(centrals);
  const comment = Buffer.from(o.comment ?? new Uint8Array());
  const eocd = Buffer.alloc(22);
  eocd.writeUInt32LE(0x06054b50, 0);
  eocd.writeUInt16LE(entries.length, 8);
  eocd.writeUInt16LE(entries.length, 10);
  eocd.writeUInt32LE(cd.length, 12);
  eocd.writeUInt32LE(offset, 16);
  eocd.writeUInt16LE(comment.length, 20);
  return Buffer.concat([...locals, cd, eocd, comment]);
};
