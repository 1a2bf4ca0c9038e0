// Sender benchmark (issue 5): wire bytes per raw log byte for a realistic session, bytes
// re-sent after the network is cut mid-upload, and time from `online` to upload complete.
// Real collector (embedded store) and Chromium with an on-disk profile, all on 127.0.0.1.
import type { BrowserContext } from 'playwright-core';
import { AGENT_PAGE, agentLoaded } from '../tests/support/agentPage.js';
import { launchPersistent, until } from '../tests/support/browser.js';
import { type StaticServer, startStaticServer } from '../tests/support/static-server.js';
import { KEYS, startTestCollector, type TestCollector } from '../tests/unit/server/harness.js';

const MESSAGES = 20_000;

/** Ends a session of realistic log traffic (requests, UI events, warnings, errors with stacks). */
const realisticSession = async (context: BrowserContext, server: StaticServer, collectorUrl: string, n = MESSAGES): Promise<string> => {
  const page = await context.newPage();
  await page.goto(server.url + AGENT_PAGE);
  await agentLoaded(page);
  const id = await page.evaluate(
    async ([n, url, key]) => {
      W().Ferry.init({ product: 'demo', application: 'bench', version: '2.4.1', server: { url: url as string, ingestKey: key as string } });
      await W().Ferry.ready();
      const { log } = W().Ferry;
      const paths = ['/api/orders', '/api/customers', '/api/invoices', '/api/search', '/api/session'];
      let seed = 7;
      const rnd = (k: number) => {
        seed = (seed * 1103515245 + 12345) % 2147483648;
        return seed % k;
      };
      for (let i = 0; i < (n as number); i++) {
        const r = rnd(100);
        const path = `${paths[rnd(5)]}/${rnd(100000)}`;
        if (r < 60) log.information('Http', `GET ${path} answered 200 in ${rnd(900)} ms`, { status: 200, bytes: rnd(500000), cache: rnd(2) ? 'hit' : 'miss' });
        else if (r < 85) log.verbose('Ui', `clicked #${['save', 'open', 'close', 'next', 'filter'][rnd(5)]} on view ${rnd(40)}`);
        else if (r < 95) log.warning('Http', `slow response from ${path}: ${1000 + rnd(9000)} ms`);
        else {
          const e = new Error(`request to ${path} failed: ${['timeout', 'HTTP 502', 'HTTP 500', 'aborted'][rnd(4)]}`);
          log.exception(e, { category: 'Http', details: { attempt: rnd(3), user: `u${rnd(500)}` } });
        }
      }
      await W().Ferry.flush();
      return W().Ferry.getSessionId()!;
    },
    [n, collectorUrl, KEYS.all] as const,
  );
  await page.close();
  return id;
};

const patchBytes = (c: TestCollector, upload: string) =>
  c.logs.filter((r) => r.msg === 'request' && r.method === 'PATCH' && String(r.path).endsWith(upload)).reduce((n, r) => n + ((r.bytes as number) ?? 0), 0);
const summaryBytes = (c: TestCollector) =>
  c.logs.filter((r) => r.msg === 'request' && String(r.path).endsWith('/summaries')).reduce((n, r) => n + ((r.bytes as number) ?? 0), 0);

export default async function senderBench(): Promise<void> {
  const server = await startStaticServer();
  const collector = await startTestCollector({ listen: true, over: { products: { demo: { policy: 'all', keys: [{ key: KEYS.all, origins: ['*'] }] } } } });
  const { context, dispose } = await launchPersistent();
  try {
    // 1. Wire cost of one realistic session, sent by the elected tab.
    const first = await realisticSession(context, server, collector.collector.url);
    const sender = await context.newPage();
    await sender.goto(server.url + AGENT_PAGE);
    await agentLoaded(sender);
    await sender.evaluate(
      async ([url, key]) => {
        W().Ferry.init({
          product: 'demo',
          application: 'bench',
          version: '2.4.1',
          server: { url: url as string, ingestKey: key as string, autoSendSessions: true },
        });
        await W().Ferry.ready();
        W().Ferry.sendNow();
      },
      [collector.collector.url, KEYS.all] as const,
    );
    const stored1 = await until(() => collector.logs.find((r) => r.msg === 'detail stored' && r.session === first), 'first session stored', 60_000);
    const raw = stored1.bytes as number;
    const wire = patchBytes(collector, stored1.upload as string) + summaryBytes(collector);

    // 2. Cut the network after the first chunk, come back online, time the recovery.
    // Three times the size, so its detail spans several 256 KiB chunks.
    const second = await realisticSession(context, server, collector.collector.url, 3 * MESSAGES);
    let patches = 0;
    let cutDone: () => void = () => {};
    const cutAt = new Promise<void>((r) => (cutDone = r));
    context.on('requestfinished', (r) => {
      if (r.method() === 'PATCH' && ++patches === 1) void context.setOffline(true).then(cutDone);
    });
    await sender.evaluate(() => W().Ferry.sendNow());
    await cutAt;
    await until(async () => (await sender.evaluate(() => navigator.onLine)) === false, 'offline');
    const t0 = Date.now();
    await context.setOffline(false);
    const stored2 = await until(() => collector.logs.find((r) => r.msg === 'detail stored' && r.session === second), 'second session stored', 60_000);
    const recoveryMs = Date.now() - t0;
    const compressed2 = stored2.compressed as number;
    const resent = patchBytes(collector, stored2.upload as string) - compressed2;

    console.log(`realistic session: ${MESSAGES.toLocaleString()} messages, ${raw.toLocaleString()} bytes of NDJSON`);
    console.log('measure                                   value        target');
    console.log(`wire bytes / raw bytes (summary + detail)  ${(wire / raw).toFixed(3).padStart(8)}      ≤ 0.15`);
    console.log(`bytes re-sent after a cut mid-upload       ${String(resent).padStart(8)}      ≤ ${256 * 1024} (one chunk)`);
    console.log(`online → upload complete                   ${String(recoveryMs).padStart(6)} ms`);
    console.log(
      `(second session: ${compressed2.toLocaleString()} compressed bytes in ${Math.ceil(compressed2 / (256 * 1024))} chunks; cut after chunk 1; recovery = the leader's 'online' check, HEAD, then the remaining chunks)`,
    );
  } finally {
    await dispose();
    await collector.close();
    await server.close();
  }
}
