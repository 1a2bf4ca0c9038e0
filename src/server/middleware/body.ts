import type { Context } from 'hono';
import { ApiError } from '../errors.js';

/**
 * A request body's chunks under a byte limit: a declared `Content-Length` over the limit is
 * refused before reading; an undeclared (chunked) body as soon as it passes the limit; a client
 * that goes away mid-body is a 400. readBody keeps the chunks in memory, the package spool writes
 * them to a file.
 */
export async function* limitedBody(
  body: ReadableStream<Uint8Array> | null,
  declared: string | undefined,
  max: number,
  what: string,
): AsyncGenerator<Uint8Array> {
  // The rest of a refused body is not read, so the connection cannot carry another request:
  // `Connection: close` stops clients from reusing it (and failing on the reset).
  if (declared !== undefined && Number(declared) > max)
    throw new ApiError(413, 'too-large', `${what} declares ${declared} bytes, the limit is ${max}`, { Connection: 'close' });
  let n = 0;
  if (body) {
    const reader = body.getReader();
    for (;;) {
      let chunk: ReadableStreamReadResult<Uint8Array>;
      try {
        chunk = await reader.read();
      } catch {
        // The only way a request body fails to read is the client going away mid-body (closed tab,
        // lost network, cancelled fetch): the client's doing, answered and logged as a 400, not an
        // internal error (nobody may be left to read the answer).
        throw new ApiError(400, 'bad-request', `${what} was cut off: the client closed the connection before the body was complete`, { Connection: 'close' });
      }
      if (chunk.done) break;
      n += chunk.value.byteLength;
      if (n > max) {
        await reader.cancel().catch(() => {});
        throw new ApiError(413, 'too-large', `${what} is over the limit of ${max} bytes`, { Connection: 'close' });
      }
      yield chunk.value;
    }
  }
  // A connection closed mid-body may also end the stream as if complete: fewer bytes than the
  // declared length are the same client abort, not a body to check.
  if (declared !== undefined && Number(declared) !== n)
    throw new ApiError(400, 'bad-request', `${what} was cut off: ${n} of ${declared} bytes arrived before the client closed the connection`, {
      Connection: 'close',
    });
}

/** Reads a request body into memory under a byte limit (limitedBody). */
export const readBody = async (c: Context, max: number, what: string): Promise<Buffer> => {
  const parts: Uint8Array[] = [];
  for await (const chunk of limitedBody(c.req.raw.body, c.req.header('content-length'), max, what)) parts.push(chunk);
  return Buffer.concat(parts);
};

/** The media type without parameters, lower-cased. */
export const mediaType = (c: Context): string => (c.req.header('content-type') ?? '').split(';')[0].trim().toLowerCase();
