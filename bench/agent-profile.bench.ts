// Where the main thread's time per message goes (issue 8): a CDP sampling profile of 100k
// realistic log() calls and their flush, against an unminified build of the agent so functions
// keep their names. Printed as µs per message per group, for each of 3 rounds (round 1 cold).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { launchPersistent } from '../tests/support/browser.js';
import { startStaticServer } from '../tests/support/static-server.js';

const N = 100_000;
const ROUNDS = 3;
const root = join(import.meta.dirname, '..');
const outDir = join(root, '.profile-dist');

/**
 * Which part of the work a sampled frame is: by the source module it comes from (the unminified
 * build marks each module with a `// <path>` comment) or, for native frames, by name.
 */
const groupOf = (fn: string, module: string | undefined): string => {
  if (fn === '(garbage collector)') return 'garbage collector';
  if (module === undefined)
    return /^(put|transaction|commit|objectStore|structuredClone)$/.test(fn)
      ? 'IndexedDB put/commit (native and idb)'
      : 'other (the bench loop building messages, unattributed)';
  if (module.includes('node_modules/idb/')) return 'IndexedDB put/commit (native and idb)';
  if (/^(encodeBatch|encodeLine|categoryJson)$/.test(fn)) return 'encoding NDJSON (encodeBatch, encodeLine)';
  if (/src\/agent\/(log\/|storage\/buffer|boot\/index)/.test(module) || fn === 'push') return 'call site (record, details snapshot, buffer push)';
  return `other (${module.replace(/^.*src\//, '')})`;
};

/** For a built file: the source module of each line, from the bundler's `// <path>` comments. */
const moduleLines = (file: string): string[] => {
  const out: string[] = [];
  let current = '';
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const m = /^\/\/ ((?:src|node_modules)\/\S+)$/.exec(line);
    if (m) current = m[1];
    out.push(current);
  }
  return out;
};

export default async function agentProfileBench(): Promise<void> {
  rmSync(outDir, { recursive: true, force: true });
  execFileSync(
    process.execPath,
    [join(root, 'node_modules/vite/bin/vite.js'), 'build', '--mode', 'lib', '--minify', 'false', '--outDir', outDir, '--emptyOutDir'],
    {
      cwd: root,
      stdio: 'ignore',
    },
  );
  mkdirSync(outDir, { recursive: true });
  writeFileSync(
    join(outDir, 'page.html'),
    '<!doctype html><meta charset="utf-8"><script type="module">import * as F from "/.profile-dist/ferry.js"; window.Ferry = F; window.ready = true;</script>',
  );
  const server = await startStaticServer();
  const { context, dispose } = await launchPersistent();
  try {
    const page = await context.newPage();
    await page.goto(`${server.url}/.profile-dist/page.html`);
    await page.waitForFunction(() => (window as unknown as { ready?: boolean }).ready === true);
    await page.evaluate(async () => {
      const F = (window as unknown as { Ferry: typeof import('../src/agent/boot/index.js') }).Ferry;
      F.init({ product: 'profile', application: 'bench', version: '1', storage: { maxLocalBytes: 1e10 } });
      await F.ready();
    });
    const cdp = await context.newCDPSession(page);
    await cdp.send('Profiler.enable');
    await cdp.send('Profiler.setSamplingInterval', { interval: 100 });
    console.log(`CDP sampling profile of ${N.toLocaleString()} log.information() calls with a details object, and their flush; µs of main thread per message`);
    for (let round = 1; round <= ROUNDS; round++) {
      await cdp.send('HeapProfiler.collectGarbage').catch(() => {});
      await cdp.send('Profiler.start');
      const wall = await page.evaluate(async (n) => {
        const F = (window as unknown as { Ferry: typeof import('../src/agent/boot/index.js') }).Ferry;
        const cats = ['Http', 'Render', 'Store', 'Auth', 'Router'];
        const t0 = performance.now();
        for (let i = 0; i < n; i++)
          F.log.information(
            cats[i % 5],
            `GET /api/orders/${i} answered 200 in 35 ms; cache miss, retried once after 502 from upstream, request id r-${i * 7919} for tenant acme-prod`,
            { orderId: i, status: 200, durationMs: 35.2, tags: ['api', 'orders'], user: { id: 'u-123', plan: 'pro' } },
          );
        const t1 = performance.now();
        await F.flush();
        return { callUs: ((t1 - t0) * 1000) / n, totalUs: ((performance.now() - t0) * 1000) / n };
      }, N);
      const { profile } = await cdp.send('Profiler.stop');
      const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
      const perGroup = new Map<string, number>();
      const modules = new Map<string, string[]>();
      const moduleAt = (url: string, line: number): string | undefined => {
        const path = url.startsWith(server.url) ? join(root, new URL(url).pathname) : '';
        if (!path || !existsSync(path)) return undefined;
        if (!modules.has(path)) modules.set(path, moduleLines(path));
        return modules.get(path)?.[line] || undefined;
      };
      let busy = 0;
      (profile.samples ?? []).forEach((id, i) => {
        const f = nodes.get(id)?.callFrame;
        const fn = f?.functionName || '(anon)';
        if (fn === '(idle)' || fn === '(program)') return;
        const us = profile.timeDeltas?.[i] ?? 0;
        busy += us;
        const group = groupOf(fn, f?.url ? moduleAt(f.url, f.lineNumber) : undefined);
        perGroup.set(group, (perGroup.get(group) ?? 0) + us);
      });
      console.log(
        `\nround ${round}${round === 1 ? ' (cold)' : ''}: wall ${wall.callUs.toFixed(2)} µs/call at the call site, ${wall.totalUs.toFixed(2)} µs/message until flushed; sampled busy ${(busy / N).toFixed(2)} µs/message`,
      );
      for (const [group, us] of [...perGroup].sort((a, b) => b[1] - a[1]))
        console.log(`  ${(us / N).toFixed(2).padStart(6)} µs  ${String(Math.round((100 * us) / busy)).padStart(3)} %  ${group}`);
    }
  } finally {
    await dispose();
    await server.close();
    rmSync(outDir, { recursive: true, force: true });
  }
}
