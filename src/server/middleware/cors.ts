import type { MiddlewareHandler } from 'hono';

export interface IngestCorsOptions {
  methods: readonly string[];
  allowHeaders: readonly string[];
  exposeHeaders: readonly string[];
  /** Seconds a browser may cache a preflight (Chromium caps it at 7200). */
  maxAge?: number;
}

/**
 * CORS for the ingest endpoints. Preflights are answered for any origin, because the key (and so
 * its origin list) is not sent in a preflight; the real request is then checked against the key's
 * origins by `ingestAuth`, and its refusal carries CORS headers so the agent can read the 403
 * instead of seeing a bare network error it would retry forever.
 */
export const ingestCors = (o: IngestCorsOptions): MiddlewareHandler => {
  const allowMethods = o.methods.join(', ');
  const allowHeaders = o.allowHeaders.join(', ');
  const expose = o.exposeHeaders.join(', ');
  return async (c, next) => {
    const origin = c.req.header('origin');
    if (c.req.method === 'OPTIONS' && origin !== undefined && c.req.header('access-control-request-method') !== undefined) {
      return c.body(null, 204, {
        'Access-Control-Allow-Origin': origin,
        'Access-Control-Allow-Methods': allowMethods,
        'Access-Control-Allow-Headers': allowHeaders,
        'Access-Control-Max-Age': String(o.maxAge ?? 7200),
        Vary: 'Origin',
      });
    }
    await next();
    if (origin !== undefined) {
      let res = c.res;
      try {
        res.headers.set('Access-Control-Allow-Origin', origin);
      } catch {
        // Immutable headers (a Response from elsewhere): copy it first.
        res = new Response(res.body, res);
        res.headers.set('Access-Control-Allow-Origin', origin);
      }
      res.headers.set('Access-Control-Expose-Headers', expose);
      res.headers.append('Vary', 'Origin');
      c.res = res;
    }
  };
};
