// The product of the collector `npm start` runs: the one the demo and the README's first example
// use, with one ingest key, from any origin (a local dev server of the reader's own app included;
// a production config lists its origins, docs/server.md).
import type { CollectorConfig } from '../src/server/config.js';

export const DEV_PRODUCT = 'Acme Suite';
export const DEV_INGEST_KEY = 'demo-key';

export const devProducts = (origins: string[]): CollectorConfig['products'] => ({
  [DEV_PRODUCT]: { policy: 'all', keys: [{ key: DEV_INGEST_KEY, origins }] },
});
