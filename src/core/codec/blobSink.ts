/**
 * Collects output bytes into a Blob. Parts are folded into the Blob every few MB, so the
 * browser's blob store (which moves large blobs to disk) holds the package rather than the
 * worker's heap.
 */
const FOLD_BYTES = 8 * 1024 * 1024;

export interface BlobSink {
  push(bytes: Uint8Array): void;
  readonly size: number;
  finish(): Blob;
}

export const createBlobSink = (type: string): BlobSink => {
  let blob = new Blob([], { type });
  let parts: BlobPart[] = [];
  let pending = 0;
  let size = 0;
  return {
    push(bytes) {
      parts.push(bytes as Uint8Array<ArrayBuffer>);
      pending += bytes.length;
      size += bytes.length;
      if (pending >= FOLD_BYTES) {
        blob = new Blob([blob, ...parts], { type });
        parts = [];
        pending = 0;
      }
    },
    get size() {
      return size;
    },
    finish() {
      blob = new Blob([blob, ...parts], { type });
      parts = [];
      pending = 0;
      return blob;
    },
  };
};
