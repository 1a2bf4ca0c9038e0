import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from '../env.js';
import { type Metrics, routeLabel } from '../metrics.js';

/** Counts every request by route and status, its body bytes, its time, and refusals by reason. */
export const countRequests =
  (m: Metrics, inFlight: { uploads: number }): MiddlewareHandler<AppEnv> =>
  async (c, next) => {
    const t0 = performance.now();
    const route = routeLabel(c.req.path);
    const upload = route.startsWith('/') && route.includes('/uploads') && c.req.method === 'PATCH';
    if (upload) inFlight.uploads++;
    try {
      await next();
    } finally {
      if (upload) inFlight.uploads--;
      const status = c.res.status;
      m.requests.inc({ route, method: c.req.method, status: String(status) });
      const bytes = Number(c.req.header('content-length'));
      if (bytes > 0) m.receivedBytes.inc({ route }, bytes);
      m.requestSeconds.observe({ route }, (performance.now() - t0) / 1000);
      if (status >= 400) m.rejected.inc({ reason: c.res.headers.get('x-ferry-limit') ?? c.res.headers.get('x-ferry-error') ?? String(status) });
    }
  };
