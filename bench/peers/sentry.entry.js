// Sentry's setup for the peer benchmark: captureMessage (and addBreadcrumb) with the offline
// transport Sentry documents for browsers (IndexedDB queue, flushed at start-up).
import { addBreadcrumb, captureMessage, flush, init, makeBrowserOfflineTransport, makeFetchTransport } from '@sentry/browser';

window.Peer = {
  async init(c) {
    init({ dsn: c.url, release: '1', transport: makeBrowserOfflineTransport(makeFetchTransport), transportOptions: { flushAtStartup: true } });
  },
  run(mode, from, to, gen) {
    if (mode === 'breadcrumb')
      for (let i = from; i < to; i++) {
        const m = gen(i);
        addBreadcrumb({ category: m.category, message: m.text, level: 'info', data: m.details });
      }
    else
      for (let i = from; i < to; i++) {
        const m = gen(i);
        captureMessage(m.text, { level: 'info', tags: { category: m.category }, extra: m.details });
      }
  },
  // Quiet once the transport has sent (or queued) what it took.
  quiet: () => flush(10_000),
};
