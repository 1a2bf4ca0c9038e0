/**
 * One S3 client from the collector's `blobs` settings. The same settings reach AWS S3, MinIO,
 * Cloudflare R2 and any other S3-compatible service: only `endpoint` and `forcePathStyle` differ
 * (docs/operations.md). Credentials left out of the config come from the SDK's usual chain
 * (`AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`, a profile, an instance role).
 */
import { S3Client } from '@aws-sdk/client-s3';
import type { S3BlobsConfig } from '../config.js';

export const createS3Client = (cfg: S3BlobsConfig): S3Client => {
  // The collector supports Node 20 (package engines); the SDK's notice about its own future
  // Node 22 requirement would otherwise print on every start.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  return new S3Client({
    region: cfg.region,
    forcePathStyle: cfg.forcePathStyle,
    ...(cfg.endpoint ? { endpoint: cfg.endpoint } : {}),
    ...(cfg.accessKeyId && cfg.secretAccessKey ? { credentials: { accessKeyId: cfg.accessKeyId, secretAccessKey: cfg.secretAccessKey } } : {}),
    // The SDK retries throttling and 5xx itself; a request that still fails becomes the caller's 500.
    maxAttempts: 3,
    // Checksums only where the API requires them: the SDK's default wraps streamed bodies in
    // aws-chunked encoding with a trailer, which several S3-compatible servers store verbatim.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
};

/** The SDK's "no such key" in its two shapes (GetObject's NoSuchKey, HeadObject's bare 404). */
export const isMissing = (e: unknown): boolean => {
  const err = e as { name?: string; $metadata?: { httpStatusCode?: number } };
  return err?.name === 'NoSuchKey' || err?.name === 'NotFound' || err?.$metadata?.httpStatusCode === 404;
};
