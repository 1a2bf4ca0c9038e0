/**
 * The ready-made service worker keeps the agent's own files — the chunks loaded on first use
 * (packager, sender), the ESM build the script-tag build loads them from, and the worker — in
 * Cache Storage, so a page that goes offline before it needed them can still package a report
 * or send once it can. The list is the agent build's, fixed when ferry-sw.js is built; the files
 * are found under the `?agent=` base the page registers the service worker with (the agent adds
 * it when it runs from its own dist/ files). An app whose bundler renamed the files gets no
 * `?agent=` and precaches them with its own service worker.
 *
 * Network first, the cache only when the network fails: a cached `ferry.js` or `ferry-worker.js`
 * (names without a hash) must never be served to a page running a newer agent.
 */
import { AGENT_BASE_PARAM, PRECACHE_PREFIX } from '../shared/names.js';

export interface AgentPrecache {
  readonly cacheName: string;
  readonly urls: ReadonlySet<string>;
  /** Fetches and keeps every file; resolves with how many are kept (stops at the first missing one). */
  fill(): Promise<number>;
  /** Deletes the caches of other builds. */
  dropOthers(): Promise<void>;
  /** The response for a request of one of the agent's files, or undefined for any other request. */
  respond(request: Request): Promise<Response> | undefined;
}

/** `build` names the agent build (its files' content hash), so each build has its own cache. */
export const agentPrecache = (files: readonly string[], build: string, serviceWorkerUrl: string): AgentPrecache | undefined => {
  const base = new URL(serviceWorkerUrl).searchParams.get(AGENT_BASE_PARAM);
  if (!base) return undefined;
  let baseUrl: URL;
  try {
    baseUrl = new URL(base, serviceWorkerUrl);
  } catch {
    return undefined;
  }
  const urls = new Set(files.map((f) => new URL(f, baseUrl).href));
  const cacheName = `${PRECACHE_PREFIX}${build}:${baseUrl.href}`;
  return {
    cacheName,
    urls,
    async fill() {
      const cache = await caches.open(cacheName);
      let kept = 0;
      for (const url of urls) {
        if (!(await cache.match(url))) {
          const res = await fetch(url, { cache: 'no-cache' }).catch(() => undefined);
          if (!res?.ok) return kept;
          await cache.put(url, res);
        }
        kept++;
      }
      return kept;
    },
    async dropOthers() {
      for (const name of await caches.keys()) if (name.startsWith(PRECACHE_PREFIX) && name !== cacheName) await caches.delete(name);
    },
    respond(request) {
      if (request.method !== 'GET' || !urls.has(request.url)) return undefined;
      return fetch(request).catch(async (e: unknown) => {
        const cached = await caches.open(cacheName).then((c) => c.match(request.url));
        if (cached) return cached;
        throw e;
      });
    },
  };
};
