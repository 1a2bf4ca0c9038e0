import type { CollectorConfig } from './config.js';

/**
 * The origin clients reach the collector at: `publicUrl` when configured, else the forwarded
 * host (only with `trustProxy`), else the Host the request came to. Upload URLs and the "self"
 * origin of ingest keys are built from it.
 */
export const publicOrigin = (req: Request, cfg: Pick<CollectorConfig, 'publicUrl' | 'trustProxy'>): string => {
  if (cfg.publicUrl) return cfg.publicUrl;
  if (cfg.trustProxy) {
    const host = req.headers.get('x-forwarded-host')?.split(',')[0]?.trim();
    const proto = req.headers.get('x-forwarded-proto')?.split(',')[0]?.trim();
    if (host) return `${proto === 'https' ? 'https' : 'http'}://${host}`;
  }
  return new URL(req.url).origin;
};
