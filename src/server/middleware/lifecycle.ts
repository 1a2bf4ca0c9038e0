import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from '../env.js';
import { errorResponse } from '../errors.js';
import type { Logger } from '../log.js';

export interface ServerState {
  inFlight: number;
  draining: boolean;
}

/**
 * Outermost middleware: counts requests in flight (graceful shutdown waits for them), refuses new
 * work while draining, and writes one structured access-log line per request.
 */
export const lifecycle =
  (state: ServerState, log: Logger, logRequests = true): MiddlewareHandler<AppEnv> =>
  async (c, next) => {
    const t0 = performance.now();
    if (state.draining && c.req.path !== '/health') {
      c.res = errorResponse(503, 'shutting-down', 'the collector is shutting down; retry shortly', { 'Retry-After': '5', Connection: 'close' });
      return;
    }
    state.inFlight++;
    try {
      await next();
    } finally {
      state.inFlight--;
      const status = c.res.status;
      const fields = {
        method: c.req.method,
        path: c.req.path,
        status,
        ms: Math.round((performance.now() - t0) * 10) / 10,
        bytes: Number(c.req.header('content-length')) || undefined,
        product: c.get('ingest')?.product,
        error: status >= 400 ? (c.res.headers.get('x-ferry-error') ?? undefined) : undefined,
      };
      if ((c.req.path === '/health' || !logRequests) && status < 400) log.debug('request', fields);
      else if (status >= 500) log.error('request', fields);
      else if (status >= 400) log.warn('request', fields);
      else log.info('request', fields);
    }
  };
