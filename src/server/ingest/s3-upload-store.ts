/**
 * Uploads in progress kept in S3, so that any replica can take the next PATCH of any upload (no
 * sticky sessions). Each PATCH becomes one object, `<prefix>uploads/<id>/c/<offset>`, written
 * whole when the PATCH body has arrived; the upload's tus info is `<prefix>uploads/<id>/info.json`.
 * The offset is the length of the chain of chunks from 0, read from a listing, so a replica that
 * dies mid-PATCH leaves either the whole chunk or nothing, and the client resumes from the last
 * acknowledged one. The shared PostgreSQL lock (pg-locker.ts) keeps two replicas from writing
 * one upload at once.
 *
 * Why not `@tus/s3-store`: it needs S3 multipart ListParts, which the loopback S3 server the
 * tests run (s3rver) does not implement; chunk objects need only Put/Get/List/Delete, which every
 * S3-compatible service has.
 */
import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  DeleteObjectsCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  type ListObjectsV2CommandOutput,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { DataStore, ERRORS, Upload } from '@tus/server';
import { isMissing } from '../store/s3-client.js';

const OFFSET_DIGITS = 12;

export interface S3UploadStoreOptions {
  client: S3Client;
  bucket: string;
  prefix: string;
  expirationMs: number;
  /** Called with a local file holding all the bytes when the last byte has been written. */
  finish: (id: string, file: string, upload: Upload) => Promise<void>;
  onCreate: (upload: Upload) => Promise<void>;
  completedLength: (id: string) => Promise<number | undefined>;
  /** Where PATCH bodies and assembled uploads wait on local disk (deleted after use). */
  tmpDir?: string;
}

interface Chunk {
  offset: number;
  size: number;
  key: string;
}

/** `@tus/server`'s extension point is a DataStore class (as in uploads.ts). */
export class S3UploadStore extends DataStore {
  private readonly tmp: string;

  constructor(private readonly o: S3UploadStoreOptions) {
    super();
    this.extensions = ['creation', 'creation-with-upload', 'expiration'];
    this.tmp = o.tmpDir ?? join(tmpdir(), 'ferry-s3-uploads');
  }

  private base(id: string): string {
    return `${this.o.prefix}uploads/${id}/`;
  }

  private async list(prefix: string, delimiter?: string): Promise<ListObjectsV2CommandOutput[]> {
    const pages: ListObjectsV2CommandOutput[] = [];
    let token: string | undefined;
    do {
      const page = await this.o.client.send(
        new ListObjectsV2Command({
          Bucket: this.o.bucket,
          Prefix: prefix,
          ...(delimiter ? { Delimiter: delimiter } : {}),
          ...(token ? { ContinuationToken: token } : {}),
        }),
      );
      pages.push(page);
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return pages;
  }

  /** The chunks from offset 0 with no gap, in order. */
  private async chain(id: string): Promise<Chunk[]> {
    const prefix = `${this.base(id)}c/`;
    const all: Chunk[] = [];
    for (const page of await this.list(prefix)) {
      for (const obj of page.Contents ?? []) {
        const offset = Number(obj.Key?.slice(prefix.length));
        if (obj.Key && Number.isSafeInteger(offset) && obj.Size !== undefined) all.push({ offset, size: obj.Size, key: obj.Key });
      }
    }
    all.sort((a, b) => a.offset - b.offset);
    const out: Chunk[] = [];
    let at = 0;
    for (const c of all) {
      if (c.offset !== at || c.size === 0) continue;
      out.push(c);
      at += c.size;
    }
    return out;
  }

  private async readInfo(id: string): Promise<Upload | undefined> {
    try {
      const r = await this.o.client.send(new GetObjectCommand({ Bucket: this.o.bucket, Key: `${this.base(id)}info.json` }));
      const v = JSON.parse((await r.Body?.transformToString()) ?? 'null') as Upload | null;
      return v ?? undefined;
    } catch (e) {
      if (isMissing(e)) return undefined;
      throw e;
    }
  }

  override async create(upload: Upload): Promise<Upload> {
    const info = { id: upload.id, size: upload.size, offset: 0, metadata: upload.metadata, creation_date: upload.creation_date };
    await this.o.client.send(
      new PutObjectCommand({ Bucket: this.o.bucket, Key: `${this.base(upload.id)}info.json`, Body: JSON.stringify(info), ContentType: 'application/json' }),
    );
    await this.o.onCreate(upload);
    return upload;
  }

  override async getUpload(id: string): Promise<Upload> {
    const info = await this.readInfo(id);
    if (!info) {
      // A completed upload's objects are gone; it still reads as complete (its record says so).
      const done = await this.o.completedLength(id);
      if (done === undefined) throw ERRORS.FILE_NOT_FOUND;
      return new Upload({ id, size: done, offset: done });
    }
    const offset = (await this.chain(id)).reduce((n, c) => n + c.size, 0);
    return new Upload({
      id,
      offset,
      ...(info.size !== undefined ? { size: info.size } : {}),
      ...(info.metadata ? { metadata: info.metadata } : {}),
      ...(info.creation_date ? { creation_date: info.creation_date } : {}),
    });
  }

  private async tmpFile(id: string): Promise<string> {
    await mkdir(this.tmp, { recursive: true });
    return join(this.tmp, `${id}.${randomBytes(6).toString('hex')}`);
  }

  override async write(readable: Readable, id: string, offset: number): Promise<number> {
    const info = await this.readInfo(id);
    if (!info) throw ERRORS.FILE_NOT_FOUND;
    // The PATCH body goes to local disk first: S3 wants the length of an object before its bytes.
    const body = await this.tmpFile(id);
    try {
      try {
        await pipeline(readable, createWriteStream(body));
      } catch {
        throw ERRORS.FILE_WRITE_ERROR;
      }
      const size = (await stat(body)).size;
      if (size > 0) {
        await this.o.client.send(
          new PutObjectCommand({
            Bucket: this.o.bucket,
            Key: `${this.base(id)}c/${String(offset).padStart(OFFSET_DIGITS, '0')}`,
            Body: createReadStream(body),
            ContentLength: size,
          }),
        );
      }
      const end = offset + size;
      if (info.size !== undefined && end === info.size) await this.complete(id, new Upload({ ...info, offset: end }));
      return end;
    } finally {
      await rm(body, { force: true });
    }
  }

  /** Assembles the chunks into one local file and finishes the upload with it. */
  async complete(id: string, upload: Upload): Promise<void> {
    const file = await this.tmpFile(id);
    try {
      const out = createWriteStream(file);
      try {
        for (const c of await this.chain(id)) {
          const r = await this.o.client.send(new GetObjectCommand({ Bucket: this.o.bucket, Key: c.key }));
          if (!r.Body) throw new Error(`empty chunk ${c.key}`);
          await pipeline(r.Body as Readable, out, { end: false });
        }
      } finally {
        await new Promise<void>((res, rej) => out.end((e?: Error | null) => (e ? rej(e) : res())));
      }
      await this.o.finish(id, file, upload);
    } finally {
      await rm(file, { force: true });
    }
  }

  /** Deletes every object of the upload (info and chunks). */
  override async remove(id: string): Promise<void> {
    for (const page of await this.list(this.base(id))) {
      const keys = (page.Contents ?? []).flatMap((o) => (o.Key ? [{ Key: o.Key }] : []));
      if (keys.length) await this.o.client.send(new DeleteObjectsCommand({ Bucket: this.o.bucket, Delete: { Objects: keys, Quiet: true } }));
    }
  }

  /** Every upload with objects in the bucket, with its newest object's time (for the sweep). */
  async stored(): Promise<{ id: string; modifiedMs: number }[]> {
    const seen = new Map<string, number>();
    const root = `${this.o.prefix}uploads/`;
    for (const page of await this.list(root)) {
      for (const obj of page.Contents ?? []) {
        const id = obj.Key?.slice(root.length).split('/')[0];
        if (!id) continue;
        seen.set(id, Math.max(seen.get(id) ?? 0, obj.LastModified?.getTime() ?? 0));
      }
    }
    return [...seen].map(([id, modifiedMs]) => ({ id, modifiedMs }));
  }

  override getExpiration(): number {
    return this.o.expirationMs;
  }
}
