/**
 * Strips the gzip framing (RFC 1952) from a gzip stream as it passes, giving the raw deflate
 * body that a zip entry holds, and reads the CRC-32 and length from the 8-byte trailer. Both
 * engines write the plain 10-byte header (no name, comment or extra field).
 */
export interface GzipTrailer {
  crc: number;
  /** Uncompressed length modulo 2^32. */
  size: number;
}

export interface GzipUnframer {
  push(gz: Uint8Array): void;
  /** Emits the rest of the body and returns the trailer. */
  end(): GzipTrailer;
}

const HEADER = 10;
const TRAILER = 8;

export const createGzipUnframer = (onRaw: (raw: Uint8Array) => void): GzipUnframer => {
  const header = new Uint8Array(HEADER);
  let headerSeen = 0;
  // The trailer is only known at the end, so the newest bytes are held back until more arrive.
  let held: Uint8Array[] = [];
  let heldBytes = 0;

  const checkHeader = (): void => {
    if (header[0] !== 0x1f || header[1] !== 0x8b || header[2] !== 8) throw new Error('compressor output is not gzip');
    if (header[3] !== 0) throw new Error(`unexpected gzip header flags ${header[3]}`);
  };

  return {
    push(gz) {
      let chunk = gz;
      if (headerSeen < HEADER) {
        const take = Math.min(HEADER - headerSeen, chunk.length);
        header.set(chunk.subarray(0, take), headerSeen);
        headerSeen += take;
        chunk = chunk.subarray(take);
        if (headerSeen === HEADER) checkHeader();
      }
      if (chunk.length === 0) return;
      held.push(chunk);
      heldBytes += chunk.length;
      while (held.length > 1 && heldBytes - held[0].length >= TRAILER) {
        const first = held.shift()!;
        heldBytes -= first.length;
        onRaw(first);
      }
    },
    end() {
      if (headerSeen < HEADER || heldBytes < TRAILER) throw new Error('gzip stream ended early');
      const rest = new Uint8Array(heldBytes);
      let at = 0;
      for (const h of held) {
        rest.set(h, at);
        at += h.length;
      }
      held = [];
      heldBytes = 0;
      if (rest.length > TRAILER) onRaw(rest.subarray(0, rest.length - TRAILER));
      const view = new DataView(rest.buffer, rest.byteOffset + rest.length - TRAILER, TRAILER);
      return { crc: view.getUint32(0, true), size: view.getUint32(4, true) };
    },
  };
};

/** The gzip member for a raw deflate body whose CRC-32 and length are known (for reading). */
export const gzipHeader = (): Uint8Array => Uint8Array.of(0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff);

export const gzipTrailer = (crc: number, size: number): Uint8Array => {
  const t = new Uint8Array(TRAILER);
  const v = new DataView(t.buffer);
  v.setUint32(0, crc >>> 0, true);
  v.setUint32(4, size >>> 0, true);
  return t;
};
