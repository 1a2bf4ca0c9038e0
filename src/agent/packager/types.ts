/** The packager's public types (src/agent/packager.ts), kept apart so the core imports types only. */

import type { PackageCriterion, PackageProblem } from '../../shared/package-format.js';
import type { SessionSummary } from '../../shared/summary.js';
import type { BuildProgress, CompressionEngine } from '../../shared/worker-protocol.js';
import type { Handler } from '../tools/emitter.js';
import type { CollectorReceipt } from './destinations/collector.js';

export type { PackageCriterion, PackageProblem } from '../../shared/package-format.js';
export type { CompressionEngine } from '../../shared/worker-protocol.js';

/**
 * Where a package goes. `server` stores it at the collector of `init({ server })`; `email` has
 * the collector relay it to the recipients configured there for the product.
 */
export type DestinationKind = 'file' | 'folder' | 'download' | 'blob' | 'server' | 'email';

export type Destination =
  | DestinationKind
  /** Save dialog (File System Access) where available, else a download. `handle`: a file the app already holds. */
  | { type: 'file'; handle?: FileSystemFileHandle }
  /**
   * The "removable media" case: a folder picked by the user (or held by the app, e.g. remembered
   * in IndexedDB) gets the package under a unique, descriptive name; else a download.
   */
  | { type: 'folder'; directory?: FileSystemDirectoryHandle }
  | { type: 'download' }
  /**
   * No saving: the package comes back as `result.blob` for the app to handle. `deliver`, when
   * given, hands it on before the sessions are marked packaged: they are marked only once it
   * resolves, and an `AbortError` from it (a cancelled share sheet) makes the send `cancelled`.
   */
  | { type: 'blob'; deliver?: (blob: Blob, fileName: string, sessions: readonly SessionSummary[]) => Promise<void> }
  | { type: 'server' }
  | { type: 'email' };

export interface PreviewOptions {
  /** Combined as a union: a session is in when any criterion matches. */
  criteria: PackageCriterion[];
  /** Only this application's sessions; by default every application of the product. */
  application?: string;
}

export interface SendOptions extends PreviewOptions {
  destination: Destination;
  /** What the user says happened (at most 10,000 characters). */
  description?: string;
  /** Where the user wants an answer. */
  replyTo?: string;
  /** Aborting cancels the package: `send` resolves with status `cancelled` and marks nothing. */
  signal?: AbortSignal;
  onProgress?: (progress: PackagerProgress) => void;
  /** Forces a compression engine (tests, benchmarks); by default native where available. */
  engine?: CompressionEngine;
}

export type PackagerPhase = 'selecting' | 'packaging' | 'saving' | 'done';

export interface PackagerProgress extends BuildProgress {
  /** The same for every report of one `send`. */
  jobId: string;
  phase: PackagerPhase;
}

export interface SendResult {
  /** `empty`: no session matched (nothing was saved); `cancelled`: the user or the signal stopped it. */
  status: 'sent' | 'empty' | 'cancelled';
  /** Where the package went; `download` when a picker was unavailable. */
  destination: DestinationKind;
  /** The package's name as saved (the user may change it in a save dialog). */
  fileName?: string;
  /** The sessions in the package, oldest first. */
  sessions: SessionSummary[];
  /** Package bytes. */
  bytes: number;
  /** NDJSON bytes packaged. */
  rawBytes: number;
  /** Stored chunks that could not be read and were left out (also listed in the manifest). */
  problems: PackageProblem[];
  /** Matching sessions left out because one package holds at most 1,000 (the oldest go). */
  skipped: number;
  /**
   * Sessions marked as packaged (so `new` leaves them out next time); the running one never is.
   * With `server`, these are also marked sent (the collector stored them).
   */
  marked: string[];
  /** `server` and `email`: the collector's reply (package id and per-session result, or the message id). */
  receipt?: CollectorReceipt;
  /** The package itself (status `sent`), whatever the destination: the app may also keep or upload it. */
  blob?: Blob;
}

export interface PackagerEvents {
  progress: PackagerProgress;
  sent: SendResult;
}

export interface PackagerApi {
  /**
   * Packages the sessions matching `criteria` and sends the package to `destination`. Rejects
   * (never throws synchronously) on bad options or a failure; a cancelled picker or an aborted
   * `signal` resolves with status `cancelled`.
   */
  send(options: SendOptions): Promise<SendResult>;
  /** The sessions `send` would package now, without packaging them. */
  preview(options: PreviewOptions): Promise<SessionSummary[]>;
  /** `progress` while packaging, `sent` once a package was saved; returns an unsubscribe function. */
  on<K extends keyof PackagerEvents>(event: K, handler: Handler<PackagerEvents[K]>): () => void;
}
