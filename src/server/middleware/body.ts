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
    const { done, value } = await reader.read();
    if (done) break;
    n += value.byteLength;
    if (n > max) {
      await reader.cancel().catch(() => {});
      throw new ApiError(413, 'too-large', `${what} is over the limit of ${max} bytes`, { Connection: 'close' });
    }
    parts.push(value);
  }
  return Buffer.concat(parts, n);
};

/** The media type without parameters, lower-cased. */
export const mediaType = (c: Context): string => (c.req.header('content-type') ?? '').split(';')[0].trim().toLowerCase();
