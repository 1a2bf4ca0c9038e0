/**
 * The zip container, written by fflate's streaming `Zip` with entries deflated elsewhere: each
 * entry gets a gzip member from either engine, and its deflate body goes into the zip with the
 * CRC-32 and size from the gzip trailer (written after the data, in a data descriptor).
 */
import { Zip, type ZipInputFile } from 'fflate';
import type { CompressionEngine } from './engine.js';
import { createGzipUnframer } from './gzipFrame.js';
import { createGzipWriter, type GzipWriter } from './gzipStream.js';

export interface ZipWriter {
  /**
   * Adds one deflated entry whose content `produce` writes (returning the bytes it wrote); entries
   * are written one at a time. Resolves with the entry's uncompressed size.
   */
  addEntry(name: string, produce: (out: GzipWriter) => Promise<number>): Promise<number>;
  /** Writes the central directory; resolves when the last byte has gone to `onData`. */
  finish(): Promise<void>;
  abort(): void;
}

export const createZipWriter = (engine: CompressionEngine, mtime: number, onData: (bytes: Uint8Array) => void): ZipWriter => {
  let failure: Error | undefined;
  let finished: (() => void) | undefined;
  const zip = new Zip((err, data, final) => {
    if (err) {
      failure ??= err;
      return;
    }
    onData(data);
    if (final) finished?.();
  });
  const check = (): void => {
    if (failure) throw failure;
  };

  return {
    async addEntry(name, produce) {
      check();
      const file: ZipInputFile = { filename: name, size: 0, crc: 0, compression: 8, mtime };
      zip.add(file);
      const emit = (raw: Uint8Array): void => file.ondata!(null, raw as Uint8Array<ArrayBuffer>, false);
      const unframer = createGzipUnframer(emit);
      const gz = createGzipWriter(engine, (chunk) => unframer.push(chunk));
      let bytes: number;
      try {
        bytes = await produce(gz);
        await gz.close();
      } catch (e) {
        gz.abort(e);
        throw e;
      }
      const trailer = unframer.end();
      if (trailer.size !== bytes >>> 0) throw new Error(`${name}: compressor saw ${trailer.size} bytes, ${bytes} were written`);
      // fflate reads crc and size when the entry's final chunk arrives (data descriptor).
      file.crc = trailer.crc;
      file.size = bytes;
      file.ondata!(null, new Uint8Array(0), true);
      check();
      return bytes;
    },
    finish() {
      check();
      const done = new Promise<void>((resolve) => (finished = resolve));
      zip.end();
      check();
      return done;
    },
    abort() {
      zip.terminate();
    },
  };
};
