/** Builders for summaries, messages, detail blobs and packages used by the collector tests. */
import { createHash, randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { strToU8, type Zippable, zipSync } from 'fflate';
import { uuidv7 } from '../../../src/shared/ids.js';
import { encodeMessages, type LogMessage } from '../../../src/shared/message.js';
import { type BuiltPackageManifest, MANIFEST_ENTRY, PACKAGE_FORMAT, PACKAGE_FORMAT_VERSION, sessionEntryName } from '../../../src/shared/package-format.js';
import { emptyCounts, type Severity, type SeverityCounts } from '../../../src/shared/severity.js';
import { emptyLoss, type SessionSummary } from '../../../src/shared/summary.js';

export const sha256 = (b: Uint8Array | string): string => createHash('sha256').update(b).digest('hex');

export const makeSummary = (over: Partial<SessionSummary> = {}): SessionSummary => {
  const counts = over.counts ?? { ...emptyCounts(), information: 3 };
  const messageCount = Object.values(counts).reduce((a, b) => a + b, 0);
  return {
    id: uuidv7(),
    product: 'demo',
    application: 'editor',
    version: '1.2.3',
    status: 'ended',
    startedAt: Date.now() - 60_000,
    endedAt: Date.now() - 1000,
    counts,
    messageCount,
    lastSeq: messageCount,
    bytes: 1000,
    userAgent: 'test-agent',
    url: 'https://app.example.com/',
    agentVersion: '0.1.0',
    persistence: 'indexeddb',
    dropped: emptyLoss(),
    ...over,
  };
};

export const countsWith = (over: Partial<SeverityCounts>): SeverityCounts => ({ ...emptyCounts(), ...over });

export const makeMessages = (sessionId: string, n: number, severity: Severity = 'information', textBytes = 60): LogMessage[] =>
  Array.from({ length: n }, (_, i) => ({
    sessionId,
    seq: i + 1,
    time: 1_700_000_000_000 + i,
    severity,
    category: 'test',
    text: `message ${i} ${'x'.repeat(textBytes)}`,
  }));

export interface Detail {
  ndjson: string;
  gz: Buffer;
  sha256: string;
}

export const makeDetail = (messages: LogMessage[]): Detail => {
  const ndjson = encodeMessages(messages);
  const gz = gzipSync(ndjson);
  return { ndjson, gz, sha256: sha256(gz) };
};

/** Incompressible-ish filler, so test uploads have several chunks without huge message counts. */
export const noisyMessages = (sessionId: string, n: number, bytes: number): LogMessage[] =>
  Array.from({ length: n }, (_, i) => ({
    sessionId,
    seq: i + 1,
    time: 1_700_000_000_000 + i,
    severity: i % 10 === 0 ? 'error' : 'information',
    category: 'noise',
    text: randomBytes(bytes).toString('base64'),
  }));

export const makeManifest = (sessions: SessionSummary[], over: Partial<BuiltPackageManifest> = {}): BuiltPackageManifest => ({
  format: PACKAGE_FORMAT,
  formatVersion: PACKAGE_FORMAT_VERSION,
  product: sessions[0]?.product ?? 'demo',
  created: Date.now(),
  creator: { agentVersion: '0.1.0', userAgent: 'test-agent', application: 'editor', version: '1.2.3' },
  criteria: ['error'],
  description: 'It broke when I clicked Save',
  replyTo: 'user@example.com',
  sessions,
  ...over,
});

/** A package zip the way the packager writes it (fflate, deflated entries). */
export const makePackage = (
  sessions: { summary: SessionSummary; messages: LogMessage[] }[],
  opts: { manifest?: Partial<BuiltPackageManifest>; extra?: Zippable } = {},
): Uint8Array => {
  const files: Zippable = {
    [MANIFEST_ENTRY]: strToU8(
      JSON.stringify(
        makeManifest(
          sessions.map((s) => s.summary),
          opts.manifest,
        ),
      ),
    ),
  };
  for (const s of sessions) files[sessionEntryName(s.summary.id)] = strToU8(encodeMessages(s.messages));
  return zipSync({ ...files, ...opts.extra }, { level: 6 });
};
