/** Writing a package into the File System Access API's handles (also OPFS, which has the same interface). */
import { PACKAGE_EXTENSION } from '../../../shared/package-format.js';

/** Writes `blob` to `file`; on failure nothing is kept (the writable is discarded). */
export const writeFile = async (file: FileSystemFileHandle, blob: Blob): Promise<void> => {
  const out = await file.createWritable();
  try {
    await out.write(blob);
    await out.close();
  } catch (e) {
    await out.abort().catch(() => {});
    throw e;
  }
};

const exists = async (dir: FileSystemDirectoryHandle, name: string): Promise<boolean> => {
  try {
    await dir.getFileHandle(name);
    return true;
  } catch (e) {
    const n = (e as { name?: unknown }).name;
    if (n === 'NotFoundError') return false;
    if (n === 'TypeMismatchError') return true; // a folder of that name
    throw e;
  }
};

/** `name`, or `<base>-2.ferry.zip`, `-3`, … : the first that does not exist in `dir`. Never overwrites. */
export const uniqueName = async (dir: FileSystemDirectoryHandle, name: string): Promise<string> => {
  const ext = name.endsWith(PACKAGE_EXTENSION) ? PACKAGE_EXTENSION : '';
  const base = name.slice(0, name.length - ext.length);
  for (let i = 1; i <= 9999; i++) {
    const candidate = i === 1 ? name : `${base}-${i}${ext}`;
    if (!(await exists(dir, candidate))) return candidate;
  }
  throw new Error(`the folder already holds 9999 packages named ${name}`);
};

/** Writes `blob` into `dir` under a unique name; returns the name used. */
export const writeIntoFolder = async (dir: FileSystemDirectoryHandle, name: string, blob: Blob): Promise<string> => {
  const unique = await uniqueName(dir, name);
  const file = await dir.getFileHandle(unique, { create: true });
  try {
    await writeFile(file, blob);
  } catch (e) {
    await dir.removeEntry(unique).catch(() => {});
    throw e;
  }
  return unique;
};
