/**
 * Builds a package (DESIGN.md §5): `sessions/<id>.ndjson` per session, then `manifest.json`
 * (last, because it lists the chunks that had to be left out), streamed into a Blob. DOM-free:
 * it runs in the page's worker and in the service worker.
 */

import {
  type BuiltPackageManifest,
  MANIFEST_ENTRY,
  PACKAGE_FORMAT,
  PACKAGE_FORMAT_VERSION,
  PACKAGE_MEDIA_TYPE,
  type PackageCreator,
  type PackageCriterion,
  type PackageProblem,
  sessionEntryName,
} from '../../shared/package-format.js';
import type { SessionSummary } from '../../shared/summary.js';
import type { BuildProgress } from '../../shared/worker-protocol.js';
import { createBlobSink } from '../codec/blobSink.js';
import type { CompressionEngine } from '../codec/engine.js';
import { createZipWriter } from '../codec/zipWriter.js';
import type { ChunkStore } from '../db/chunks.js';
import { writeSessionText, writeText } from './sessionText.js';

export interface PackageSessionInput {
  summary: SessionSummary;
  /** For the running session: chunks after this seq (logged after packaging began) stay out. */
  untilSeq?: number;
  /** NDJSON held only in page memory (IndexedDB unavailable); read instead of the store. */
  inlineText?: string;
}

export type { BuildProgress };

export interface BuildInput {
  product: string;
  created: number;
  creator: PackageCreator;
  criteria: PackageCriterion[];
  description?: string;
  replyTo?: string;
  sessions: PackageSessionInput[];
  engine: CompressionEngine;
  signal?: AbortSignal;
  onProgress?: (p: BuildProgress) => void;
  /** Least time between two progress reports (the last one is always sent). @defaultValue 100 */
  progressEveryMs?: number;
}

export interface BuildOutput {
  blob: Blob;
  manifest: BuiltPackageManifest;
  problems: PackageProblem[];
  /** NDJSON bytes packaged (before compression). */
  rawBytes: number;
}

export const buildPackage = async (store: ChunkStore | undefined, input: BuildInput): Promise<BuildOutput> => {
  const { sessions, signal } = input;
  signal?.throwIfAborted();
  const sink = createBlobSink(PACKAGE_MEDIA_TYPE);
  const zip = createZipWriter(input.engine, input.created, (b) => sink.push(b));
  const problems: PackageProblem[] = [];
  const every = input.progressEveryMs ?? 100;
  const progress: BuildProgress = {
    sessionsDone: 0,
    sessionsTotal: sessions.length,
    bytesDone: 0,
    bytesTotal: sessions.reduce((n, s) => n + (s.summary.bytes || 0), 0),
    packageBytes: 0,
  };
  let lastReport = 0;
  const report = (force: boolean): void => {
    const now = Date.now();
    if (!input.onProgress || (!force && now - lastReport < every)) return;
    lastReport = now;
    progress.packageBytes = sink.size;
    input.onProgress({ ...progress });
  };

  let rawBytes = 0;
  try {
    report(true);
    for (const s of sessions) {
      const id = s.summary.id;
      const before = rawBytes;
      const written = await zip.addEntry(sessionEntryName(id), async (out) => {
        if (s.inlineText !== undefined) return writeText(s.inlineText, out);
        if (!store) return 0;
        const r = await writeSessionText(store, id, out, problems, {
          untilSeq: s.untilSeq,
          signal,
          onBytes: (n) => {
            progress.bytesDone = before + n;
            report(false);
          },
        });
        return r.bytes;
      });
      rawBytes += written;
      progress.sessionsDone++;
      progress.bytesDone = rawBytes;
      report(false);
    }
    const manifest: BuiltPackageManifest = {
      format: PACKAGE_FORMAT,
      formatVersion: PACKAGE_FORMAT_VERSION,
      product: input.product,
      created: input.created,
      creator: input.creator,
      criteria: input.criteria,
      sessions: sessions.map((s) => s.summary),
    };
    if (input.description !== undefined) manifest.description = input.description;
    if (input.replyTo !== undefined) manifest.replyTo = input.replyTo;
    if (problems.length) manifest.problems = problems;
    await zip.addEntry(MANIFEST_ENTRY, (out) => writeText(JSON.stringify(manifest, null, 1), out));
    await zip.finish();
    const blob = sink.finish();
    progress.packageBytes = blob.size;
    input.onProgress?.({ ...progress });
    return { blob, manifest, problems, rawBytes };
  } catch (e) {
    zip.abort();
    throw e;
  }
};
