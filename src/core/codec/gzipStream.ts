/**
 * One compressor interface over both engines: bytes in, a gzip member out. Detail blobs are that
 * gzip member as it is; zip entries are its raw deflate body, with the CRC-32 and length taken
 * from the gzip trailer (see gzipFrame.ts) — so the native engine computes the CRC in C++ and no
 * JavaScript pass over the data is needed.
 */
import { Gzip } from 'fflate';
import type { CompressionEngine } from './engine.js';

export interface GzipWriter {
  /** Compresses `bytes`; the caller may reuse `bytes` once this resolves. */
  write(bytes: Uint8Array<ArrayBuffer>): Promise<void>;
  /** Flushes everything; resolves after the last output has been handed to `onData`. */
  close(): Promise<void>;
  /** Stops early (cancel or error); output stops, nothing more is called. */
  abort(reason: unknown): void;
}

export const createGzipWriter = (engine: CompressionEngine, onData: (gz: Uint8Array) => void): GzipWriter =>
  engine.kind === 'native' ? nativeGzip(onData) : fflateGzip(engine.level, onData);

const nativeGzip = (onData: (gz: Uint8Array) => void): GzipWriter => {
  const cs = new CompressionStream('gzip');
  const writer = cs.writable.getWriter();
  const reader = cs.readable.getReader();
  let failed: unknown;
  const pump = (async () => {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      onData(value);
    }
  })();
  // A rejected pump is reported through write/close; keep it from being an unhandled rejection.
  pump.catch((e: unknown) => (failed ??= e));
  return {
    async write(bytes) {
      if (failed !== undefined) throw failed;
      // Awaiting the write (not just `ready`) means zlib has consumed `bytes`, so the caller can
      // refill the same buffer: no allocation per chunk.
      await writer.write(bytes);
    },
    async close() {
      await writer.close();
      await pump;
    },
    abort(reason) {
      failed ??= reason;
      void writer.abort(reason).catch(() => {});
      void reader.cancel(reason).catch(() => {});
    },
  };
};

const fflateGzip = (level: 1 | 6 | 9, onData: (gz: Uint8Array) => void): GzipWriter => {
  let stopped = false;
  // mtime 0 keeps output reproducible; fflate copies pushed bytes into its own window.
  const gz = new Gzip({ level, mtime: 0 }, (chunk) => {
    if (!stopped) onData(chunk);
  });
  return {
    async write(bytes) {
      if (stopped) throw new Error('compression was stopped');
      gz.push(bytes, false);
    },
    async close() {
      gz.push(new Uint8Array(0), true);
    },
    abort() {
      stopped = true;
    },
  };
};
