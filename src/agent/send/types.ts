// What the start-up link and the lazily loaded send side share.

import type { FerryDatabase } from '../../core/db/open.js';
import type { SenderState } from '../../shared/channel.js';
import type { ResolvedOptions } from '../config/options.js';
import type { ConsentState } from './consent.js';

export type SendReason = 'error' | 'request';

export interface SendLinkDeps {
  options: () => ResolvedOptions;
  database: () => FerryDatabase | undefined;
  sessionId: () => string;
  consent: ConsentState;
  markCrashed: () => Promise<string[]>;
  locks: LockManager | undefined;
  now: () => number;
  state: (s: SenderState) => void;
  /** URL of the agent script (ferry-worker.js and, for the script-tag build, ferry.js are found next to it). */
  scriptUrl: string | undefined;
  /** The agent was stopped: a send side that finishes loading now is not started. */
  stopped: () => boolean;
  /** sendSessionsOnExit, as the option or setSendSessionsOnExit() has it now. */
  sendsOnExit: () => boolean;
}
