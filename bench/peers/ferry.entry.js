// Ferry's minimal setup for the peer benchmark: the package entry, sending to the collector.
import { flush, init, log, ready } from '../../dist/ferry.js';

window.Peer = {
  async init(c) {
    init({ product: 'bench', application: c.tag, version: '1', server: { url: c.url, ingestKey: c.key, autoSendSessions: true } });
    await ready();
  },
  run(_mode, from, to, gen) {
    for (let i = from; i < to; i++) {
      const m = gen(i);
      log.information(m.category, m.text, m.details);
    }
  },
  // Quiet once every message is in IndexedDB (sending happens later, off the main thread's hot path).
  quiet: () => flush(),
};
