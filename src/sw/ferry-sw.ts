// The ready-made service worker: Ferry's handlers and nothing else. It takes control at once
// so that a page's first load can already hand uploads and exits to it.
import { ferrySync } from './index.js';
import type { ServiceWorkerScope } from './sw-types.js';

const sw = self as unknown as ServiceWorkerScope;
sw.addEventListener('install', () => void sw.skipWaiting());
sw.addEventListener('activate', (e) => e.waitUntil(sw.clients.claim()));
ferrySync();
