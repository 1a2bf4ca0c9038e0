/**
 * Which compressor runs: the browser's native `CompressionStream` where it exists, fflate where
 * it does not (DESIGN.md §2). On log NDJSON in a Chromium worker, with the IndexedDB read
 * (bench/package.bench.ts, 20 MB session): packages native 40–57 MB/s at 11.8×, fflate level 1
 * 36 MB/s at 8.3×, level 6 23 MB/s at 10.6×.
 */
import type { CompressionEngine, FflateLevel } from '../../shared/worker-protocol.js';

export type { CompressionEngine, FflateLevel };

/**
 * The fallback's level. Level 6 costs 9–37% more time than level 1 but makes packages and
 * detail blobs 21% smaller; the work runs off the main thread, while the bytes saved are paid
 * for on every upload and email attachment, so size wins.
 */
export const FALLBACK_LEVEL: FflateLevel = 6;

export const hasNativeCompression = (): boolean => {
  try {
    // Constructing both is the only reliable feature test: old engines lack the classes or `gzip`.
    new CompressionStream('gzip');
    new DecompressionStream('gzip');
    return true;
  } catch {
    return false;
  }
};

let detected: CompressionEngine | undefined;

/** The engine to use when the caller does not choose: native when available. */
export const defaultEngine = (): CompressionEngine => (detected ??= hasNativeCompression() ? { kind: 'native' } : { kind: 'fflate', level: FALLBACK_LEVEL });

export const engineName = (e: CompressionEngine): string => (e.kind === 'native' ? 'native' : `fflate-${e.level}`);
