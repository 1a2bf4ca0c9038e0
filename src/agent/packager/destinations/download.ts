/** Saves a package through the browser's download (the fallback everywhere). */

/** How long a package's `blob:` URL lives: the download resolves it at once, this is slack. */
export const DOWNLOAD_URL_LIFETIME_MS = 60_000;

/** Mints a `blob:` URL; the packager passes one that runs in the worker, off the main thread. */
export type ObjectUrlMaker = (blob: Blob, lifetimeMs: number) => Promise<string>;

export const mainThreadObjectUrl: ObjectUrlMaker = async (blob, lifetimeMs) => {
  const url = URL.createObjectURL(blob);
  setTimeout(() => URL.revokeObjectURL(url), lifetimeMs);
  return url;
};

export const download = async (blob: Blob, fileName: string, objectUrl: ObjectUrlMaker = mainThreadObjectUrl, doc: Document = document): Promise<void> => {
  let url: string;
  try {
    url = await objectUrl(blob, DOWNLOAD_URL_LIFETIME_MS);
  } catch {
    url = await mainThreadObjectUrl(blob, DOWNLOAD_URL_LIFETIME_MS);
  }
  const a = doc.createElement('a');
  a.href = url;
  a.download = fileName;
  a.rel = 'noopener';
  a.style.display = 'none';
  (doc.body ?? doc.documentElement).appendChild(a);
  a.click();
  a.remove();
};
