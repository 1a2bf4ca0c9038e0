/**
 * Opens a package (DESIGN.md §5) for the viewer, the tests and anyone holding a `.ferry.zip`:
 * the directory and manifest are checked when it opens, and each session's messages are checked
 * line by line (JSON, message shape, session, increasing seq) as they are read. Every failure is
 * a PackageReadError saying what is wrong.
 */
import { checkMessage, type LogMessage } from '../../shared/message.js';
import {
  type BuiltPackageManifest,
  MANIFEST_ENTRY,
  PACKAGE_FORMAT,
  PACKAGE_FORMAT_VERSION,
  PACKAGE_LIMITS,
  sessionEntryName,
  sessionIdOfEntry,
} from '../../shared/package-format.js';
import { type CompressionEngine, defaultEngine } from '../codec/engine.js';
import { damaged, entryStream, PackageReadError, readZipDirectory, type ZipEntryInfo } from '../codec/zipReader.js';

export { PackageReadError } from '../codec/zipReader.js';

export interface OpenedPackage {
  manifest: BuiltPackageManifest;
  /** Every zip entry, by name. */
  entries: ReadonlyMap<string, ZipEntryInfo>;
  /** A session's messages in order; throws PackageReadError at the first damaged byte or bad line. */
  messages(sessionId: string): AsyncGenerator<LogMessage>;
  /** The same, a decoded block at a time (faster for whole sessions). */
  messageBlocks(sessionId: string): AsyncGenerator<LogMessage[]>;
  /** A session's NDJSON bytes as stored in the package (CRC-checked). */
  ndjson(sessionId: string): Promise<ReadableStream<Uint8Array>>;
}

const bad = (detail: string): PackageReadError => new PackageReadError(detail);

const readAll = async (stream: ReadableStream<Uint8Array>, name: string, max: number): Promise<Uint8Array> => {
  const parts: Uint8Array[] = [];
  let n = 0;
  const reader = stream.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      n += value.length;
      if (n > max) throw bad(`${name} is larger than ${max} bytes`);
      parts.push(value);
    }
  } catch (e) {
    void reader.cancel().catch(() => {});
    throw damaged(name, e);
  }
  const out = new Uint8Array(n);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
};

const checkManifest = (v: unknown): BuiltPackageManifest => {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw bad(`${MANIFEST_ENTRY} is not a JSON object`);
  const m = v as Record<string, unknown>;
  if (m.format !== PACKAGE_FORMAT) throw bad(`${MANIFEST_ENTRY} is not a Ferry manifest (format is ${JSON.stringify(m.format)})`);
  if (!Number.isSafeInteger(m.formatVersion) || (m.formatVersion as number) < 1) throw bad(`${MANIFEST_ENTRY}: formatVersion must be a positive integer`);
  if ((m.formatVersion as number) > PACKAGE_FORMAT_VERSION)
    throw bad(`the package is format version ${m.formatVersion as number}; this reader knows version ${PACKAGE_FORMAT_VERSION}`);
  if (typeof m.product !== 'string' || m.product === '') throw bad(`${MANIFEST_ENTRY}: product must be a non-empty string`);
  if (typeof m.created !== 'number') throw bad(`${MANIFEST_ENTRY}: created must be a number`);
  if (!Array.isArray(m.criteria)) throw bad(`${MANIFEST_ENTRY}: criteria must be an array`);
  if (!Array.isArray(m.sessions)) throw bad(`${MANIFEST_ENTRY}: sessions must be an array`);
  const seen = new Set<string>();
  m.sessions.forEach((s: unknown, i) => {
    const id = (s as { id?: unknown } | null)?.id;
    if (typeof id !== 'string' || id === '') throw bad(`${MANIFEST_ENTRY}: sessions[${i}] has no id`);
    if (seen.has(id)) throw bad(`${MANIFEST_ENTRY}: session ${id} is listed twice`);
    seen.add(id);
  });
  return m as unknown as BuiltPackageManifest;
};

/** The entry's lines, a decoded block at a time (one await per block, not per line). */
async function* lineBlocks(stream: ReadableStream<Uint8Array>, name: string): AsyncGenerator<string[]> {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  const reader = stream.getReader();
  let rest = '';
  try {
    for (;;) {
      let chunk;
      try {
        chunk = await reader.read();
      } catch (e) {
        throw damaged(name, e);
      }
      let text: string;
      try {
        text = chunk.done ? decoder.decode() : decoder.decode(chunk.value, { stream: true });
      } catch {
        throw bad(`${name} is not valid UTF-8`);
      }
      const block = (rest + text).split('\n');
      rest = block.pop()!;
      if (block.length) yield block;
      if (chunk.done) break;
    }
    if (rest !== '') yield [rest];
  } finally {
    void reader.cancel().catch(() => {});
  }
}

/** Opens a package Blob (or File); throws PackageReadError when it is not a readable package. */
export const readPackage = async (blob: Blob, engine: CompressionEngine = defaultEngine()): Promise<OpenedPackage> => {
  if (!(blob instanceof Blob)) throw bad('a package must be a Blob or File');
  const list = await readZipDirectory(blob, PACKAGE_LIMITS.maxEntries);
  const entries = new Map(list.map((e) => [e.name, e]));
  const manifestEntry = entries.get(MANIFEST_ENTRY);
  if (!manifestEntry) throw bad(`the zip file has no ${MANIFEST_ENTRY}: it is not a Ferry package`);
  const raw = await readAll(await entryStream(blob, manifestEntry, engine), MANIFEST_ENTRY, PACKAGE_LIMITS.maxManifestBytes);
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(raw));
  } catch {
    throw bad(`${MANIFEST_ENTRY} is not valid JSON`);
  }
  const manifest = checkManifest(parsed);
  const listed = new Set(manifest.sessions.map((s) => s.id));
  for (const name of entries.keys()) {
    const id = sessionIdOfEntry(name);
    if (id !== undefined && !listed.has(id)) throw bad(`entry ${name} is not a session listed in ${MANIFEST_ENTRY}`);
  }
  for (const id of listed) if (!entries.has(sessionEntryName(id))) throw bad(`session ${id} is listed in ${MANIFEST_ENTRY} but has no entry`);

  const entryOf = (sessionId: string): ZipEntryInfo => {
    const e = entries.get(sessionEntryName(sessionId));
    if (!e || !listed.has(sessionId)) throw bad(`the package has no session ${sessionId}`);
    return e;
  };

  async function* messageBlocks(sessionId: string): AsyncGenerator<LogMessage[]> {
    const e = entryOf(sessionId);
    let lastSeq = 0;
    let n = 0;
    for await (const block of lineBlocks(await entryStream(blob, e, engine), e.name)) {
      const out: LogMessage[] = [];
      for (const text of block) {
        n++;
        if (text === '') continue;
        let v: unknown;
        try {
          v = JSON.parse(text);
        } catch {
          throw bad(`${e.name} line ${n} is not JSON`);
        }
        const problem = checkMessage(v);
        if (problem) throw bad(`${e.name} line ${n}: ${problem}`);
        const m = v as LogMessage;
        if (m.sessionId !== sessionId) throw bad(`${e.name} line ${n} belongs to session ${m.sessionId.slice(0, 64)}`);
        if (m.seq <= lastSeq) throw bad(`${e.name} line ${n}: seq ${m.seq} does not follow ${lastSeq}`);
        lastSeq = m.seq;
        out.push(m);
      }
      if (out.length) yield out;
    }
  }

  return {
    manifest,
    entries,
    ndjson: (sessionId) => entryStream(blob, entryOf(sessionId), engine),
    messageBlocks,
    async *messages(sessionId) {
      for await (const block of messageBlocks(sessionId)) yield* block;
    },
  };
};
