/**
 * CRC-32 (IEEE, as zip and gzip use it) in JavaScript, for the paths the native engine does not
 * cover: checking entries read with fflate (its inflater does not check CRCs) and stored entries.
 */
let table: Int32Array | undefined;

const makeTable = (): Int32Array => {
  const t = new Int32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c;
  }
  return t;
};

/** Continues a CRC over `bytes` (start with 0); returns the unsigned CRC so far. */
export const crc32 = (bytes: Uint8Array, previous = 0): number => {
  const t = (table ??= makeTable());
  let c = ~previous;
  for (let i = 0; i < bytes.length; i++) c = t[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
};
