/**
 * Loads a lazily imported part of the agent (the send side, the sender, the service worker's
 * registration) and, when the load fails — the page went offline before the chunk arrived, a
 * deploy replaced it, a flaky network — tries again: at once when the browser comes back
 * `online`, else after a jittered backoff. A failed `import()` is not cached by the browser, so
 * the same specifier can simply be imported again. No part stays dead for the page's life.
 */
import { backoffDelay } from '../../core/send/backoff.js';
import { warnOnce } from './monitor.js';

export interface LazyPartOptions<T> {
  /** Named in the console warning. */
  what: string;
  load: () => Promise<T>;
  /** Called once with the loaded module; a throw here is reported, not retried. */
  ready: (module: T) => void;
  /** Called after each failed attempt (a retry is scheduled unless the agent stopped). */
  failed?: () => void;
  /** True once the agent has stopped: no further attempt is made. */
  stopped: () => boolean;
  /** Where `online` is heard. @defaultValue globalThis (the window) */
  events?: Pick<EventTarget, 'addEventListener' | 'removeEventListener'>;
}

const RETRY = { baseMs: 2_000, maxMs: 5 * 60_000 } as const;

export interface LazyPart {
  /** Starts loading unless a load is under way or done; a pending retry is brought forward. */
  load(): void;
  /** Stops the retries (the agent stopped). */
  cancel(): void;
}

export const lazyPart = <T>(o: LazyPartOptions<T>): LazyPart => {
  let state: 'idle' | 'loading' | 'waiting' | 'done' = 'idle';
  let failures = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const events = o.events ?? globalThis;

  const clearWait = (): void => {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
    events.removeEventListener('online', onOnline);
  };
  const onOnline = (): void => {
    if (state === 'waiting') attempt();
  };

  const attempt = (): void => {
    clearWait();
    if (o.stopped()) return;
    state = 'loading';
    let loaded: Promise<T>;
    try {
      loaded = o.load();
    } catch (e) {
      loaded = Promise.reject(e);
    }
    loaded.then(
      (m) => {
        state = 'done';
        if (o.stopped()) return;
        try {
          o.ready(m);
        } catch (e) {
          warnOnce(`internal:${o.what}`, `internal error in ${o.what}; the app is unaffected`, e);
        }
      },
      (e: unknown) => {
        failures++;
        state = 'waiting';
        warnOnce(`lazy:${o.what}`, `could not load the ${o.what} (${String(e)}); retrying when the browser is online, with backoff`);
        o.failed?.();
        if (o.stopped()) return;
        events.addEventListener('online', onOnline);
        timer = setTimeout(attempt, backoffDelay(failures, RETRY));
      },
    );
  };

  return {
    load() {
      if (state === 'idle' || state === 'waiting') attempt();
    },
    cancel() {
      clearWait();
      if (state === 'waiting') state = 'idle';
    },
  };
};
