/**
 * `ferry-worker.js`: the module worker that compresses and packages sessions, reading them
 * straight from IndexedDB so message data never crosses the main thread. Loaded lazily by the
 * packager (src/agent/workerClient.ts). Also usable from a service worker: post
 * `{ type: 'ferry-connect' }` with a MessagePort and the API is exposed on that port.
 */
import { expose } from 'comlink';
import { CONNECT_MESSAGE } from '../shared/names.js';
import { createWorkerApi } from './api.js';

const api = createWorkerApi();
const scope = self as unknown as { postMessage?: unknown; addEventListener(type: 'message', l: (e: MessageEvent) => void): void };

// A dedicated worker answers on itself; a service worker has no postMessage of its own.
if (typeof scope.postMessage === 'function') expose(api);

scope.addEventListener('message', (e) => {
  const data = e.data as { type?: unknown } | null;
  if (data?.type === CONNECT_MESSAGE && e.ports[0]) expose(api, e.ports[0]);
});
