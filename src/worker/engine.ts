/**
 * Which compressor runs: the browser's native `CompressionStream` where it exists, fflate where
 * it does not (DESIGN.md §2). Measured in a Chromium worker on log NDJSON, native gzip ran at
 * 81 MB/s with a 9.42× ratio, fflate level 6 at 56 MB/s with 9.01×, fflate level 1 at 83 MB/s
 * with 7.09× (see bench/package.bench.ts for this machine's numbers).
 */
export type FflateLevel = 1 | 6 | 9;

export type CompressionEngine = { kind: 'native' } | { kind: 'fflate'; level: FflateLevel };

/**
 * The fallback's level. Level 6 costs about a third more time than level 1 but makes packages
 * and detail blobs about a quarter smaller; the work runs off the main thread, while the bytes
 * saved are paid for on every upload and email attachment, so size wins.
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
export const defaultEngine = (): CompressionEngine =>
  (detected ??= hasNativeCompression() ? { kind: 'native' } : { kind: 'fflate', level: FALLBACK_LEVEL });

export const engineName = (e: CompressionEngine): string => (e.kind === 'native' ? 'native' : `fflate-${e.level}`);
