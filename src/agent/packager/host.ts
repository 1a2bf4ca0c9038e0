/** What the packager needs of the running agent (kept out of types.ts, whose types are public). */
import type { FerryDatabase } from '../../core/db/open.js';
import type { PendingMessage } from '../../shared/message.js';
import type { SessionSummary } from '../../shared/summary.js';
import type { ResolvedOptions } from '../config/options.js';

/** What the packager needs of the running agent, and nothing more. */
export interface PackagerHost {
  /** Resolves when start-up has finished. */
  ready: Promise<void>;
  options(): ResolvedOptions;
  sessionId(): string;
  summary(): SessionSummary;
  /** Writes what is buffered. */
  flush(): Promise<void>;
  /** The product database, or undefined in memory mode. */
  database(): FerryDatabase | undefined;
  checkCrashedSessions(): Promise<string[]>;
  /** In memory mode, the messages kept. */
  memoryMessages(): readonly PendingMessage[];
}
