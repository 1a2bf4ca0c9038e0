// The ready-made service worker: Ferry's handlers, and a cache of the agent's own files (see
// precache.ts). It takes control at once so that a page's first load can already hand uploads
// and exits to it.
import { ferrySync } from './index.js';
import { agentPrecache } from './precache.js';
import type { ServiceWorkerScope } from './sw-types.js';

// Set by the build (vite.config.ts, `sw` mode) from the agent build it ships with.
declare const __FERRY_AGENT_FILES__: string[];
declare const __FERRY_AGENT_BUILD__: string;

const sw = self as unknown as ServiceWorkerScope;
const precache = agentPrecache(__FERRY_AGENT_FILES__, __FERRY_AGENT_BUILD__, sw.location.href);

sw.addEventListener('install', (e) => {
  // Navigations never need this worker: with the static routing API they skip starting it.
  const routes = e.addRoutes?.({ condition: { requestMode: 'navigate' }, source: 'network' }).catch(() => undefined);
  const filled = precache?.fill().catch(() => 0);
  e.waitUntil(Promise.all([routes, filled]).then(() => sw.skipWaiting()));
});
sw.addEventListener('activate', (e) => e.waitUntil(Promise.all([sw.clients.claim(), precache?.dropOthers().catch(() => undefined)])));
if (precache)
  sw.addEventListener('fetch', (e) => {
    const r = precache.respond(e.request);
    if (r) e.respondWith(r);
  });
ferrySync();
