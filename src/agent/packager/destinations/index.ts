/**
 * Destinations, in two steps: `prepare` runs before the package is built (pickers need the
 * user's click to be recent, and a cancelled picker should cost no work), `save` after.
 */

import { PICKER_ID } from '../../../shared/names.js';
import { PACKAGE_MEDIA_TYPE } from '../../../shared/package-format.js';
import type { SessionSummary } from '../../../shared/summary.js';
import type { PackagerOptions } from '../../config/options.js';
import type { Destination, DestinationKind } from '../types.js';
import { type CollectorReceipt, type CollectorTarget, postPackage } from './collector.js';
import { download, type ObjectUrlMaker } from './download.js';
import { writeFile, writeIntoFolder } from './fileSystem.js';
import { ensureWritable, isCancel, type PickerWindow } from './pickers.js';

export class PackagerError extends Error {
  override name = 'PackagerError';
  constructor(
    readonly code: 'unavailable' | 'not-allowed' | 'permission-denied' | 'bad-options',
    message: string,
  ) {
    super(message);
  }
}

export interface SavedPackage {
  /** The name it was saved under. */
  name: string;
  /** For `server` and `email`: what the collector confirmed. */
  receipt?: CollectorReceipt;
}

export interface PreparedDestination {
  kind: DestinationKind;
  save(blob: Blob, fileName: string, sessions: readonly SessionSummary[], signal?: AbortSignal): Promise<SavedPackage>;
}

export interface DestinationEnv {
  window?: PickerWindow;
  document?: Document;
  /** Mints the download's `blob:` URL (the packager's runs in the worker). */
  objectUrl?: ObjectUrlMaker;
  /** The collector of `init({ server })`, for the `server` and `email` destinations. */
  collector?: CollectorTarget;
  fetch?: typeof fetch;
}

const KINDS: readonly DestinationKind[] = ['file', 'folder', 'download', 'blob', 'server', 'email'];

export const destinationKind = (d: unknown): DestinationKind => {
  const kind = typeof d === 'string' ? d : (d as { type?: unknown } | null)?.type;
  if (typeof kind !== 'string' || !(KINDS as readonly string[]).includes(kind))
    throw new TypeError(`destination: must be one of ${KINDS.join(', ')} (or { type, … })`);
  return kind as DestinationKind;
};

const downloadTo = (env: DestinationEnv, doc: Document | undefined): PreparedDestination => ({
  kind: 'download',
  async save(blob, fileName) {
    await download(blob, fileName, env.objectUrl, doc);
    return { name: fileName };
  },
});

const fileTypes = [{ description: 'Ferry session package', accept: { [PACKAGE_MEDIA_TYPE]: ['.zip'] } }];

const ALLOWED_BY: Record<DestinationKind, keyof PackagerOptions | undefined> = {
  file: 'allowFile',
  download: 'allowFile',
  folder: 'allowFolder',
  server: 'allowServer',
  email: 'allowEmail',
  blob: undefined, // the app itself takes the package
};

/** Refuses a destination the app switched off with `packager.allow*`. */
export const checkAllowed = (kind: DestinationKind, options: PackagerOptions): void => {
  const option = ALLOWED_BY[kind];
  if (option && !options[option]) throw new PackagerError('not-allowed', `destination "${kind}" is switched off (packager.${option}: false)`);
};

/** Resolves `undefined` when the user cancelled a picker. */
export const prepareDestination = async (destination: Destination, fileName: string, env: DestinationEnv = {}): Promise<PreparedDestination | undefined> => {
  const kind = destinationKind(destination);
  const win = env.window ?? (globalThis as PickerWindow);
  const doc = env.document ?? (typeof document === 'undefined' ? undefined : document);
  const given = typeof destination === 'object' ? destination : undefined;

  if (kind === 'blob') {
    const deliver = given && 'deliver' in given ? given.deliver : undefined;
    return {
      kind,
      save: async (blob, name, sessions) => {
        await deliver?.(blob, name, sessions);
        return { name };
      },
    };
  }
  if (kind === 'download') return downloadTo(env, doc);
  if (kind === 'server' || kind === 'email') {
    const target = env.collector;
    if (!target) throw new PackagerError('unavailable', `destination "${kind}" needs init({ server: { url, ingestKey } })`);
    return {
      kind,
      save: async (blob, name, sessions, signal) => ({
        name,
        receipt: await postPackage(
          kind,
          target,
          blob,
          sessions.map((s) => s.id),
          signal,
          env.fetch,
        ),
      }),
    };
  }

  if (kind === 'file') {
    let handle = given && 'handle' in given ? given.handle : undefined;
    if (handle && !(await ensureWritable(handle))) throw new PackagerError('permission-denied', 'no permission to write the chosen file');
    if (!handle && typeof win.showSaveFilePicker === 'function') {
      try {
        handle = await win.showSaveFilePicker({ suggestedName: fileName, id: PICKER_ID, types: fileTypes });
      } catch (e) {
        if (isCancel(e)) return undefined;
        // No recent click (SecurityError/NotAllowedError) or a blocked picker: download instead.
      }
    }
    const h = handle;
    if (!h) return downloadTo(env, doc);
    return {
      kind,
      async save(blob) {
        await writeFile(h, blob);
        return { name: h.name };
      },
    };
  }

  let dir = given && 'directory' in given ? given.directory : undefined;
  if (dir && !(await ensureWritable(dir))) throw new PackagerError('permission-denied', 'no permission to write into the chosen folder');
  if (!dir && typeof win.showDirectoryPicker === 'function') {
    try {
      dir = await win.showDirectoryPicker({ id: PICKER_ID, mode: 'readwrite' });
    } catch (e) {
      if (isCancel(e)) return undefined;
    }
  }
  const d = dir;
  if (!d) return downloadTo(env, doc);
  return { kind, save: async (blob, name) => ({ name: await writeIntoFolder(d, name, blob) }) };
};
