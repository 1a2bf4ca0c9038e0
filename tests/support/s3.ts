/**
 * A real S3-protocol server on loopback for tests: s3rver (from npm) with one bucket, its objects
 * in a temp dir. The collector talks to it with the same settings it uses for AWS S3 or MinIO
 * (endpoint, region, bucket, credentials, forcePathStyle).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { S3BlobsConfig } from '../../src/server/config.js';

interface S3rverInstance {
  run(): Promise<{ address: string; port: number }>;
  close(): Promise<void>;
}
type S3rverCtor = new (o: Record<string, unknown>) => S3rverInstance;

export interface TestS3 {
  endpoint: string;
  port: number;
  /** The collector's `blobs` setting for this server's bucket (a fresh key prefix each call). */
  config(prefix?: string): S3BlobsConfig;
  stop(): Promise<void>;
}

export const startS3 = async (bucket = 'ferry-test', port = 0): Promise<TestS3> => {
  // s3rver ships no types; its constructor is all that is used.
  const S3rver = createRequire(import.meta.url)('s3rver') as S3rverCtor;
  const dir = mkdtempSync(join(tmpdir(), 'ferry-s3-'));
  const server = new S3rver({ address: '127.0.0.1', port, silent: true, directory: dir, configureBuckets: [{ name: bucket }] });
  const info = await server.run();
  const endpoint = `http://127.0.0.1:${info.port}`;
  return {
    endpoint,
    port: info.port,
    config: (prefix = '') => ({
      kind: 's3',
      bucket,
      region: 'us-east-1',
      endpoint,
      forcePathStyle: true,
      prefix,
      // s3rver's fixed credentials.
      accessKeyId: 'S3RVER',
      secretAccessKey: 'S3RVER',
    }),
    stop: async () => {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
};
