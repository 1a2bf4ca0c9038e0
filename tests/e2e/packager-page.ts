// Types of what the packager test pages (pages/packager*.html) put on window, for page.evaluate.

import type { Remote } from 'comlink';
import type { BrowserContext, Page } from 'playwright-core';
import type * as FerryModule from '../../src/agent/boot/index.js';
import type { DeliveryRecord, OutboxRecord, SessionRecord } from '../../src/core/db/schema.js';
import type { FerryWorkerApi } from '../../src/shared/worker-protocol.js';

/** A stored session with its delivery row merged in, as the fixtures read it. */
export type StoredSession = SessionRecord & Partial<Omit<DeliveryRecord, 'sessionId' | 'lastOp' | 'updatedAt'>>;

import type { Severity, SeverityCounts } from '../../src/shared/severity.js';

export interface SessionSpec {
  id?: string;
  /** Made into the id (a UUIDv7 carries its start time). */
  startedAt?: number;
  product?: string;
  application?: string;
  status?: 'running' | 'ended' | 'crashed';
  severities?: Severity[];
  sentAt?: number;
  packagedAt?: number;
  chunkSize?: number;
}

export interface Fixtures {
  open(product: string): Promise<IDBDatabase>;
  newId(): string;
  lines(sessionId: string, from: number, severities: Severity[]): string;
  seed(product: string, specs: SessionSpec[]): Promise<StoredSession[]>;
  putChunks(product: string, records: unknown[]): Promise<void>;
  sessions(product: string): Promise<StoredSession[]>;
  outbox(product: string, id: string): Promise<OutboxRecord | undefined>;
  holdLiveLock(id: string): Promise<void>;
  seedLarge(
    product: string,
    megabytes: number,
    application?: string,
  ): Promise<{ id: string; sha256: string; bytes: number; messages: number; counts: SeverityCounts }>;
  api(): Remote<FerryWorkerApi>;
  blobToBase64(blob: Blob): Promise<string>;
  Comlink: typeof import('comlink');
}

export interface PackagerWindow {
  Ferry: typeof FerryModule;
  Fx: Fixtures;
  ferryLoaded?: boolean;
  [k: string]: unknown;
}

declare global {
  /** Defined by pages/packager*.html: the window with the agent and the fixtures. */
  function PW(): PackagerWindow;
}

export const PACKAGER_PAGE = '/tests/e2e/pages/packager.html';

export const openPackagerPage = async (context: BrowserContext, base: string, path = PACKAGER_PAGE): Promise<Page> => {
  const page = await context.newPage();
  await page.goto(base + path);
  await page.waitForFunction(() => (window as unknown as PackagerWindow).ferryLoaded === true);
  return page;
};
