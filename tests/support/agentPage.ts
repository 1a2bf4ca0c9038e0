import type { BrowserContext, Page } from 'playwright-core';
import type * as FerryModule from '../../src/agent/boot/index.js';

/** What the test page puts on window: the built agent and a raw IndexedDB reader. */
export interface TestWindow {
  Ferry: typeof FerryModule;
  Inspect: {
    read(product: string): Promise<{ sessions: StoredSession[]; chunks: StoredChunk[]; messages: StoredMessage[] }>;
    seed(product: string, sessions: unknown[]): Promise<void>;
    /** Opens the product database with the raw API (created with the agent's schema if absent). */
    open(product: string): Promise<IDBDatabase>;
    /** A UUIDv7 for the given epoch ms. */
    idAt(ms: number): string;
  };
  ferryLoaded?: boolean;
}

export interface StoredSession {
  id: string;
  application: string;
  status: string;
  counts: Record<string, number>;
  messageCount: number;
  bytes: number;
  persistence: string;
  startedAt: number;
  endedAt?: number;
  dropped: Record<string, number>;
  storageReset?: { sessionsBefore: number };
  [k: string]: unknown;
}
export interface StoredChunk {
  sessionId: string;
  seq: number;
  count: number;
}
export interface StoredMessage {
  sessionId: string;
  seq: number;
  severity: string;
  category: string;
  text: string;
  details?: unknown;
  exception?: { name: string; message: string; stack?: string };
}

export const AGENT_PAGE = '/tests/e2e/pages/agent.html';

/** Opens the test page (with the built agent loaded) in `context`. */
export const openAgentPage = async (context: BrowserContext, base: string, path = AGENT_PAGE): Promise<Page> => {
  const page = await context.newPage();
  await page.goto(base + path);
  await agentLoaded(page);
  return page;
};

/** Waits for the test page's module to have run (after goto or reload). */
export const agentLoaded = (page: Page) => page.waitForFunction(() => (window as unknown as TestWindow).ferryLoaded === true);

export const readDb = (page: Page, product: string) => page.evaluate((p) => (window as unknown as TestWindow).Inspect.read(p), product);

declare global {
  /** Defined by the test page: the window with the agent and inspector on it (usable inside page.evaluate). */
  function W(): TestWindow;
}
