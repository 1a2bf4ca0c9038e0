/**
 * Content-addressed blobs in an S3 bucket: `<prefix>blobs/<sha[0..2]>/<sha>.gz`. `put` resolves
 * only when S3 has acknowledged the PutObject (S3 and its compatibles make an object durable
 * before they answer 200), so the database row that points to a blob is committed after the blob
 * is safe, as with fsync + rename on a disk. An object is written whole or not at all; a blob
 * without a row is invisible and harmless.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { DeleteObjectCommand, GetObjectCommand, HeadBucketCommand, HeadObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { BlobStore } from './blobs.js';
import { isMissing } from './s3-client.js';

const SHA_RE = /^[0-9a-f]{64}$/;

export const createS3BlobStore = (client: S3Client, bucket: string, prefix = ''): BlobStore => {
  const key = (sha: string): string => {
    if (!SHA_RE.test(sha)) throw new Error(`not a sha256: ${sha}`);
    return `${prefix}blobs/${sha.slice(0, 2)}/${sha}.gz`;
  };
  const has = async (sha: string): Promise<boolean> => {
    try {
      await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key(sha) }));
      return true;
    } catch (e) {
      if (isMissing(e)) return false;
      throw e;
    }
  };
  return {
    kind: 's3',
    has,
    async put(sha, source) {
      // Same name, same bytes: an object already there is not rewritten.
      if (await has(sha)) return;
      const body = 'bytes' in source ? source.bytes : createReadStream(source.file);
      const length = 'bytes' in source ? source.bytes.byteLength : (await stat(source.file)).size;
      await client.send(new PutObjectCommand({ Bucket: bucket, Key: key(sha), Body: body, ContentLength: length, ContentType: 'application/gzip' }));
    },
    async read(sha) {
      try {
        const r = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key(sha) }));
        if (!r.Body) return undefined;
        return Buffer.from(await r.Body.transformToByteArray());
      } catch (e) {
        if (isMissing(e)) return undefined;
        throw e;
      }
    },
    async ping() {
      await client.send(new HeadBucketCommand({ Bucket: bucket }));
    },
    async remove(sha) {
      // Deleting a missing key is not an error in S3.
      await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key(sha) }));
    },
  };
};
