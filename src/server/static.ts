/** Serves a folder read-only under a URL prefix (the viewer; in `npm start`, the demo and dist). */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { extname, join, normalize, sep } from 'node:path';
import { Readable } from 'node:stream';
import type { Context } from 'hono';
import { errorResponse } from './errors.js';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
  '.webmanifest': 'application/manifest+json',
};

export const serveDir =
  (prefix: string, dir: string) =>
  async (c: Context): Promise<Response> => {
    const root = normalize(dir + sep);
    let rel: string;
    try {
      rel = decodeURIComponent(c.req.path.slice(prefix.length));
    } catch {
      return errorResponse(400, 'bad-request', 'bad path');
    }
    if (rel === '' || rel.endsWith('/')) rel += 'index.html';
    const file = normalize(join(root, rel));
    if (!file.startsWith(root) || rel.includes('\0')) return errorResponse(404, 'not-found', 'no such file');
    try {
      const st = await stat(file);
      if (!st.isFile()) return errorResponse(404, 'not-found', 'no such file');
      const headers = {
        'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
        'content-length': String(st.size),
        'cache-control': 'no-cache',
        'x-content-type-options': 'nosniff',
        // Lets a demo register a service worker from /dist/ with a wider scope.
        'service-worker-allowed': '/',
      };
      if (c.req.method === 'HEAD') return new Response(null, { headers });
      return new Response(Readable.toWeb(createReadStream(file)) as ReadableStream, { headers });
    } catch {
      return errorResponse(404, 'not-found', 'no such file');
    }
  };
