import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, type BrowserContext, chromium, type LaunchOptions } from 'playwright-core';

/** Debian's Chromium with the flags this machine needs (see ../shared/BROWSER-FACTS.md). */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export const launchOptions = (): LaunchOptions => ({
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  headless: true,
  args: CHROMIUM_ARGS,
});

export const launchBrowser = (extra: LaunchOptions = {}): Promise<Browser> => chromium.launch({ ...launchOptions(), ...extra });

/** Playwright turns the back/forward cache off by default; tests of bfcache restores need it on. */
export const WITH_BFCACHE: LaunchOptions = { ignoreDefaultArgs: ['--disable-back-forward-cache'] };

/** A context whose IndexedDB lives on disk (for benchmarks and kill/restart tests). */
export const launchPersistent = async (): Promise<{ context: BrowserContext; dir: string; dispose(): Promise<void> }> => {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-profile-'));
  const context = await chromium.launchPersistentContext(dir, launchOptions());
  return {
    context,
    dir,
    dispose: async () => {
      await context.close().catch(() => {});
      rmSync(dir, { recursive: true, force: true });
    },
  };
};

/** Polls `check` until it returns a truthy value (no fixed sleeps in tests). */
type Truthy<T> = Exclude<T, undefined | null | false | 0 | ''>;
export const until = async <T>(check: () => Promise<T> | T, what: string, timeoutMs = 10_000, everyMs = 25): Promise<Truthy<T>> => {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v) return v as Truthy<T>;
      last = v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (last: ${String(last)})`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
};
