// Datadog's setup for the peer benchmark: browser-logs with its intake sent to a local backend
// through the documented `proxy` option.
import { datadogLogs } from '@datadog/browser-logs';

window.Peer = {
  async init(c) {
    datadogLogs.init({
      clientToken: 'pub0123456789abcdef0123456789abcdef',
      site: 'datadoghq.com',
      proxy: c.url,
      service: 'bench',
      version: '1',
      forwardErrorsToLogs: false,
      sessionSampleRate: 100,
    });
  },
  run(_mode, from, to, gen) {
    for (let i = from; i < to; i++) {
      const m = gen(i);
      datadogLogs.logger.info(m.text, { category: m.category, details: m.details });
    }
  },
  // No flush in the public API: batches go when full, every 30 s, or when the page hides.
  quiet: () => Promise.resolve(),
};
