import { createReadStream, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, resolve } from 'node:path';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.map': 'application/json',
  '.json': 'application/json',
  '.css': 'text/css',
  '.svg': 'image/svg+xml',
};

export interface StaticServer {
  url: string;
  server: Server;
  close(): Promise<void>;
}

export interface StaticServerOptions {
  /** Answers with `access-control-allow-origin: *`, as a public CDN does. */
  cors?: boolean;
  /** Called with each file served (a benchmark counts what a page fetched). */
  served?: (file: string) => void;
}

/** Serves files under `root` on 127.0.0.1 (a secure context, so Web Locks and SW work). */
export const startStaticServer = async (root = resolve(import.meta.dirname, '../..'), o: StaticServerOptions = {}): Promise<StaticServer> => {
  const host = '127.0.0.1';
  const server = createServer((req, res) => {
    const pathname = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    const path = pathname.endsWith('/') ? `${pathname}index.html` : pathname;
    const file = normalize(join(root, path));
    if (!file.startsWith(root)) {
      res.writeHead(403).end();
      return;
    }
    let size: number;
    try {
      const st = statSync(file);
      if (!st.isFile()) throw new Error('not a file');
      size = st.size;
    } catch {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    res.writeHead(200, {
      'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
      'content-length': size,
      // no-cache, not no-store: Chromium keeps no-store documents out of the back/forward cache.
      'cache-control': 'no-cache',
      'service-worker-allowed': '/',
      ...(o.cors ? { 'access-control-allow-origin': '*' } : {}),
    });
    o.served?.(file);
    createReadStream(file).pipe(res);
  });
  server.keepAliveTimeout = 1000;
  await new Promise<void>((r) => server.listen(0, host, r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host}:${port}`,
    server,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
};
