/**
 * Package bodies on disk instead of in memory: the request body is streamed to a file (size
 * limit, SHA-256 on the way), and a multipart body is split into its parts by scanning that file
 * for the boundary, so the zip is read in place as a range of the file. Nothing but a chunk and
 * the small text fields is ever held in memory.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import { mkdir, open, readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { ApiError } from '../errors.js';
import { limitedBody } from '../middleware/body.js';

export interface Spooled {
  /** The body file, open for reading. */
  fh: FileHandle;
  size: number;
  sha256: string;
}

/** Longer than any request may last (the server's requestTimeout is 5 minutes). */
const STALE_MS = 60 * 60_000;

/**
 * Removes the request folders a crash left under `root`: only those older than any request can
 * be, because replicas sharing a `dataDir` (a shared file system) have live folders there too.
 */
export const sweepSpool = async (root: string, now = Date.now()): Promise<number> => {
  let removed = 0;
  const names = await readdir(root).catch(() => [] as string[]);
  for (const name of names) {
    const path = join(root, name);
    const st = await stat(path).catch(() => undefined);
    if (st && now - st.mtimeMs > STALE_MS) {
      await rm(path, { recursive: true, force: true });
      removed++;
    }
  }
  return removed;
};

/** A folder of its own per request under `root`; `done()` removes it and everything in it. */
export const spoolDir = async (root: string): Promise<{ dir: string; done(): Promise<void> }> => {
  const dir = join(root, randomBytes(8).toString('hex'));
  await mkdir(dir, { recursive: true });
  return { dir, done: () => rm(dir, { recursive: true, force: true }) };
};

/** Streams `body` to `file` under the limits of limitedBody, hashing it on the way. */
export const spoolBody = async (
  body: ReadableStream<Uint8Array> | null,
  declared: string | undefined,
  file: string,
  max: number,
  what: string,
): Promise<Spooled> => {
  // Refused before the file exists when the declared length is over the limit.
  const chunks = limitedBody(body, declared, max, what);
  const first = await chunks.next();
  const fh = await open(file, 'w+');
  try {
    const h = createHash('sha256');
    let size = 0;
    for (let r = first; !r.done; r = await chunks.next()) {
      h.update(r.value);
      await fh.write(r.value, 0, r.value.byteLength, size);
      size += r.value.byteLength;
    }
    return { fh, size, sha256: h.digest('hex') };
  } catch (e) {
    await fh.close();
    throw e;
  }
};

export interface FilePart {
  name: string;
  filename?: string;
  /** Offset and length of the part's content in the body file. */
  start: number;
  length: number;
}

const SCAN = 1024 * 1024;
const MAX_PARTS = 16;
const MAX_PART_HEADERS = 8 * 1024;

const formError = (detail: string): ApiError => new ApiError(400, 'bad-request', `the multipart body cannot be parsed (${detail})`);

/** The boundary of a `multipart/form-data` Content-Type (RFC 7578, RFC 2046 §5.1.1). */
export const boundaryOf = (contentType: string): string => {
  const m = /;\s*boundary=(?:"([^"]{1,70})"|([^\s;"]{1,70}))/i.exec(contentType);
  const b = m?.[1] ?? m?.[2];
  if (!b) throw formError('no boundary');
  return b;
};

/** Every offset of `needle` in bytes [0, size) of the file, scanning in 1 MiB windows. */
const findAll = async (fh: FileHandle, size: number, needle: Buffer, limit: number): Promise<number[]> => {
  const out: number[] = [];
  const buf = Buffer.alloc(SCAN + needle.length);
  // Each window overlaps the previous one by needle.length - 1 bytes, so no match is cut in two.
  for (let base = 0; base < size; base += SCAN) {
    const n = Math.min(buf.length, size - base);
    const { bytesRead } = await fh.read(buf, 0, n, base);
    const view = buf.subarray(0, bytesRead);
    for (let i = view.indexOf(needle); i >= 0; i = view.indexOf(needle, i + 1)) {
      const at = base + i;
      if (i >= SCAN) break; // the next window finds it
      out.push(at);
      if (out.length > limit) throw formError(`more than ${limit - 1} parts`);
    }
  }
  return out;
};

/** The parts of a multipart body stored in `fh`, without reading their contents. */
export const multipartParts = async (fh: FileHandle, size: number, boundary: string): Promise<FilePart[]> => {
  // Every delimiter but the first is CRLF "--" boundary; the first may start the body. Scanning
  // for CRLF-- boundary with a virtual CRLF in front of the body finds them all alike.
  const delim = Buffer.from(`\r\n--${boundary}`);
  const head = Buffer.alloc(Math.min(size, delim.length - 2));
  await fh.read(head, 0, head.length, 0);
  const starts = head.equals(delim.subarray(2)) ? [-2] : [];
  starts.push(...(await findAll(fh, size, delim, MAX_PARTS + 1)));
  if (starts.length === 0) throw formError('no boundary in the body');
  const parts: FilePart[] = [];
  for (let i = 0; i < starts.length; i++) {
    const after = (starts[i] as number) + delim.length;
    const two = Buffer.alloc(2);
    await fh.read(two, 0, 2, after);
    if (two.toString('latin1') === '--') break; // the close delimiter
    if (two.toString('latin1') !== '\r\n') throw formError('a delimiter not followed by a line break');
    const next = starts[i + 1];
    if (next === undefined) throw formError('the body ends inside a part');
    const hdr = Buffer.alloc(Math.min(MAX_PART_HEADERS, next - after - 2));
    await fh.read(hdr, 0, hdr.length, after + 2);
    const headEnd = hdr.indexOf('\r\n\r\n');
    // A part with no headers starts with the blank line at once.
    const blank = hdr.subarray(0, 2).toString('latin1') === '\r\n' ? 0 : headEnd;
    if (blank < 0) throw formError('part headers are too long or unterminated');
    const headers = hdr.toString('utf8', 0, blank);
    const disposition = /^content-disposition:\s*form-data(.*)$/im.exec(headers)?.[1] ?? '';
    const name = /;\s*name="([^"]*)"/i.exec(disposition)?.[1];
    if (name === undefined) throw formError('a part without a name');
    const filename = /;\s*filename="([^"]*)"/i.exec(disposition)?.[1];
    const start = after + 2 + blank + (blank === 0 ? 2 : 4);
    parts.push({ name, ...(filename !== undefined ? { filename } : {}), start, length: next - start });
  }
  return parts;
};

/** A part's content as text (the form's small fields). */
export const partText = async (fh: FileHandle, p: FilePart, maxBytes: number): Promise<string> => {
  if (p.length > maxBytes) throw new ApiError(400, 'invalid-field', `${p.name} is too long`);
  const buf = Buffer.alloc(p.length);
  await fh.read(buf, 0, p.length, p.start);
  return buf.toString('utf8');
};
