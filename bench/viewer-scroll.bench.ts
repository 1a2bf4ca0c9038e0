// Viewer benchmark (issue 11): frame times while scrolling a session's virtualised message list in
// Chromium, for a session of 1,000 and one of 100,000 messages side by side (each message with a
// details object, one error with a stack in 500). The collector runs in this process (SQLite).

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCollector } from '../src/server/collector.js';
import { parseConfig } from '../src/server/config.js';
import { createMemoryLogger } from '../src/server/log.js';
import type { LogMessage } from '../src/shared/message.js';
import { PATHS, TUS } from '../src/shared/protocol.js';
import { launchBrowser } from '../tests/support/browser.js';
import { countsWith, makeDetail, makeSummary } from '../tests/unit/server/fixtures.js';
import { tusMetadata } from '../tests/unit/server/harness.js';

const KEY = 'bench-viewer-key-0001';
const ADMIN = 'bench-viewer-admin-token-0001';
const SCROLL_MS = 4000;

const messages = (sessionId: string, startedAt: number, n: number): LogMessage[] =>
  Array.from({ length: n }, (_, i) => ({
    sessionId,
    seq: i + 1,
    time: startedAt + i * 20,
    severity: i % 500 === 0 ? 'error' : i % 7 === 0 ? 'verbose' : 'information',
    category: ['ui', 'net', 'router', 'store'][i % 4],
    text:
      i % 500 === 0
        ? `Uncaught TypeError: Cannot read properties of undefined (reading 'total') id=${i}`
        : `rendered step ${i} of the checkout flow in ${i % 90} ms`,
    details: { step: i, route: '/checkout', took: i % 90 },
    ...(i % 500 === 0
      ? { exception: { name: 'TypeError', message: `id=${i}`, stack: 'TypeError\n    at computeTotal (https://app.example.com/cart.js:10:5)' } }
      : {}),
  }));

// Runs in the page; a string so that the bench's transpiler adds no helpers the page lacks.
const IN_PAGE_SCROLL = `async (ms) => {
  const list = document.querySelector('.vlist');
  const frames = [];
  let last = performance.now();
  const end = last + ms;
  let jumps = 0;
  await new Promise((done) => {
    const step = (now) => {
      frames.push(now - last);
      last = now;
      if (now > end) return done();
      if (frames.length % 60 === 0) {
        list.scrollTop = Math.random() * list.scrollHeight;
        jumps++;
      } else list.scrollTop += 120;
      requestAnimationFrame(step);
    };
    requestAnimationFrame(step);
  });
  return { frames: frames.slice(1), jumps, nodes: document.querySelectorAll('#view *').length };
}`;

const percentile = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? 0;
};

export default async function viewerScrollBench(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-bench-viewer-'));
  const c = await startCollector(
    parseConfig({
      port: 0,
      dataDir: dir,
      adminTokens: [ADMIN],
      log: { level: 'warn', requests: false },
      rateLimit: { perMinute: 1_000_000, burst: 100_000 },
      products: { bench: { policy: 'all', keys: [{ key: KEY, origins: ['*'] }] } },
    }),
    { log: createMemoryLogger() },
  );
  const browser = await launchBrowser();
  const rows: Record<string, number | string>[] = [];
  try {
    for (const n of [1000, 100_000]) {
      const s = makeSummary({ product: 'bench', startedAt: Date.now() - 3600_000, counts: countsWith({ information: n }), messageCount: n, lastSeq: n });
      const d = makeDetail(messages(s.id, s.startedAt, n));
      const auth = { authorization: `Ferry ${KEY}` };
      await fetch(`${c.url}${PATHS.summaries}`, {
        method: 'POST',
        headers: { ...auth, 'content-type': 'application/json' },
        body: JSON.stringify({ product: 'bench', sentAt: Date.now(), sessions: [s] }),
      });
      const created = await fetch(`${c.url}${PATHS.uploads}`, {
        method: 'POST',
        headers: {
          ...auth,
          'tus-resumable': TUS.version,
          'upload-length': String(d.gz.length),
          'upload-metadata': tusMetadata({ sessionId: s.id, product: 'bench', sha256: d.sha256 }),
        },
      });
      const patched = await fetch(created.headers.get('location')!, {
        method: 'PATCH',
        headers: { ...auth, 'tus-resumable': TUS.version, 'upload-offset': '0', 'content-type': TUS.contentType },
        body: new Uint8Array(d.gz),
      });
      if (patched.status !== 204) throw new Error(`upload: ${patched.status}`);

      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      await page.goto(`${c.url}/viewer/`);
      await page.evaluate((t) => sessionStorage.setItem('ferry-admin-token', t), ADMIN);
      const t0 = performance.now();
      await page.goto(`${c.url}/viewer/#/session/${s.id}`);
      await page.waitForFunction((k) => document.querySelector('[role=status].muted')?.textContent === `${k} of ${k} message(s) shown.`, n, {
        timeout: 120_000,
      });
      const loadMs = performance.now() - t0;
      // Scroll as a fast wheel would (120 px a frame), then jumps across the list, timing every frame.
      const r = (await page.evaluate(`(${IN_PAGE_SCROLL})(${SCROLL_MS})`)) as { frames: number[]; jumps: number; nodes: number };
      rows.push({
        messages: n,
        'load + render ms': Math.round(loadMs),
        frames: r.frames.length,
        'frame p50 ms': Math.round(percentile(r.frames, 50) * 10) / 10,
        'frame p95 ms': Math.round(percentile(r.frames, 95) * 10) / 10,
        'frame p99 ms': Math.round(percentile(r.frames, 99) * 10) / 10,
        'frame max ms': Math.round(Math.max(...r.frames) * 10) / 10,
        'frames > 50 ms': r.frames.filter((f) => f > 50).length,
        'DOM nodes in view': r.nodes,
      });
      await page.close();
    }
  } finally {
    await browser.close();
    await c.close();
    rmSync(dir, { recursive: true, force: true });
  }
  console.log(`viewer session page, headless Chromium 1280×900, ${SCROLL_MS / 1000} s of scrolling 120 px/frame with a random jump every 60 frames`);
  console.table(rows);
}
