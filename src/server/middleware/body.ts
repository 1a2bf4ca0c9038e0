import type { Context } from 'hono';
import { ApiError } from '../errors.js';

/**
 * Reads a request body with a byte limit: a declared `Content-Length` over the limit is refused
 * before reading; an undeclared (chunked) body is refused as soon as it passes the limit.
 */
export const readBody = async (c: Context, max: number, what: string): Promise<Buffer> => {
  const declared = c.req.header('content-length');
  // The rest of a refused body is not read, so the connection cannot carry another request:
  // `Connection: close` stops clients from reusing it (and failing on the reset).
  if (declared !== undefined && Number(declared) > max)
    throw new ApiError(413, 'too-large', `${what} declares ${declared} bytes, the limit is ${max}`, { Connection: 'close' });
  const body = c.req.raw.body;
  if (!body) return Buffer.alloc(0);
  const reader = body.getReader();
  const parts: Uint8Array[] = [];
  let n = 0;
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
    const { done, value } = chunk;
    if (done) break;
    n += value.byteLength;
    if (n > max) {
      await reader.cancel().catch(() => {});
      throw new ApiError(413, 'too-large', `${what} is over the limit of ${max} bytes`, { Connection: 'close' });
    }
    parts.push(value);
  }
  // A connection closed mid-body may also end the stream as if complete.
  if (declared !== undefined && Number(declared) !== n)
    throw new ApiError(400, 'bad-request', `${what} was cut off: ${n} of ${declared} bytes arrived before the client closed the connection`, {
      Connection: 'close',
    });
  return Buffer.concat(parts, n);
};

/** The media type without parameters, lower-cased. */
export const mediaType = (c: Context): string => (c.req.header('content-type') ?? '').split(';')[0].trim().toLowerCase();
