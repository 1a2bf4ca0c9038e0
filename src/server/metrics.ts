/**
 * Prometheus text-format metrics (`GET /metrics`), kept in this process: each replica is
 * scraped on its own. A tiny registry (counters, gauges, histograms with labels) instead of a
 * client library: the collector exports a handful of series and has no runtime dependency for it.
 */
import { ADMIN_BASE, PATHS } from '../shared/protocol.js';

type Labels = Record<string, string>;

const labelText = (l: Labels): string => {
  const parts = Object.entries(l).map(([k, v]) => `${k}="${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`);
  return parts.length ? `{${parts.join(',')}}` : '';
};
const keyOf = (l: Labels): string => JSON.stringify(Object.entries(l).sort());

export interface Counter {
  inc(labels?: Labels, by?: number): void;
}
export interface Histogram {
  observe(labels: Labels, value: number): void;
}

/** Seconds: from a fast SQLite read to a slow S3 write. */
const LATENCY_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export interface Metrics {
  requests: Counter;
  receivedBytes: Counter;
  rejected: Counter;
  requestSeconds: Histogram;
  storeSeconds: Histogram;
  storeErrors: Counter;
  /** Gauges read when scraped. */
  gauge(name: string, help: string, read: () => number): void;
  /** The text exposition format, version 0.0.4. */
  render(): string;
}

export const createMetrics = (): Metrics => {
  const out: (() => string[])[] = [];

  const counter = (name: string, help: string): Counter => {
    const values = new Map<string, { labels: Labels; value: number }>();
    out.push(() => [`# HELP ${name} ${help}`, `# TYPE ${name} counter`, ...[...values.values()].map((v) => `${name}${labelText(v.labels)} ${v.value}`)]);
    return {
      inc(labels = {}, by = 1) {
        const k = keyOf(labels);
        const v = values.get(k) ?? { labels, value: 0 };
        v.value += by;
        values.set(k, v);
      },
    };
  };

  const histogram = (name: string, help: string, buckets: readonly number[]): Histogram => {
    const values = new Map<string, { labels: Labels; counts: number[]; sum: number; n: number }>();
    out.push(() => {
      const lines = [`# HELP ${name} ${help}`, `# TYPE ${name} histogram`];
      for (const v of values.values()) {
        buckets.forEach((le, i) => lines.push(`${name}_bucket${labelText({ ...v.labels, le: String(le) })} ${v.counts[i]}`));
        lines.push(`${name}_bucket${labelText({ ...v.labels, le: '+Inf' })} ${v.n}`);
        lines.push(`${name}_sum${labelText(v.labels)} ${v.sum}`, `${name}_count${labelText(v.labels)} ${v.n}`);
      }
      return lines;
    });
    return {
      observe(labels, value) {
        const k = keyOf(labels);
        const v = values.get(k) ?? { labels, counts: buckets.map(() => 0), sum: 0, n: 0 };
        buckets.forEach((le, i) => {
          if (value <= le) v.counts[i]++;
        });
        v.sum += value;
        v.n++;
        values.set(k, v);
      },
    };
  };

  return {
    requests: counter('ferry_http_requests_total', 'HTTP requests answered, by route, method and status.'),
    receivedBytes: counter('ferry_http_received_bytes_total', 'Request body bytes received (Content-Length), by route.'),
    rejected: counter('ferry_rejected_total', 'Requests refused with 4xx or 5xx, by reason (the error code, or the rate limit that applied).'),
    requestSeconds: histogram('ferry_http_request_duration_seconds', 'Time to answer a request, by route.', LATENCY_BUCKETS),
    storeSeconds: histogram('ferry_store_operation_duration_seconds', 'Time of store operations (database and blobs), by operation.', LATENCY_BUCKETS),
    storeErrors: counter('ferry_store_errors_total', 'Store operations that failed, by operation.'),
    gauge(name, help, read) {
      out.push(() => [`# HELP ${name} ${help}`, `# TYPE ${name} gauge`, `${name} ${read()}`]);
    },
    render: () => `${out.flatMap((f) => f()).join('\n')}\n`,
  };
};

/** The route a path belongs to, as a bounded label (never the raw path). */
export const routeLabel = (path: string): string => {
  if (path === PATHS.summaries || path === PATHS.packages || path === PATHS.packagesEmail || path === PATHS.uploads) return path;
  if (path.startsWith(`${PATHS.uploads}/`)) return `${PATHS.uploads}/:id`;
  if (path.startsWith(`${ADMIN_BASE}/`)) return ADMIN_BASE;
  if (path === '/health' || path === '/ready' || path === '/metrics') return path;
  if (path.startsWith('/viewer')) return '/viewer';
  return 'other';
};

/**
 * The object with each of its async methods timed under `prefix.method`, and its `blobs`
 * likewise (the Store and its BlobStore): new methods are timed without a change here.
 */
export const timed = <T extends object>(target: T, metrics: Metrics, prefix: string): T =>
  new Proxy(target, {
    get(t, prop, receiver) {
      const v = Reflect.get(t, prop, receiver) as unknown;
      if (prop === 'blobs' && typeof v === 'object' && v !== null) return timed(v, metrics, 'blobs');
      if (typeof v !== 'function' || typeof prop !== 'string') return v;
      return (...args: unknown[]) => {
        const t0 = performance.now();
        const op = `${prefix}.${prop}`;
        const done = (): void => metrics.storeSeconds.observe({ op }, (performance.now() - t0) / 1000);
        const r = (v as (...a: unknown[]) => unknown).apply(t, args);
        if (r instanceof Promise)
          return r.then(
            (x) => {
              done();
              return x;
            },
            (e: unknown) => {
              done();
              metrics.storeErrors.inc({ op });
              throw e;
            },
          );
        return r;
      };
    },
  });
