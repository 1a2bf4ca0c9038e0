/** Saves a Blob through the browser's download (the fallback everywhere). */
export const download = (blob: Blob, fileName: string, doc: Document = document): void => {
  const url = URL.createObjectURL(blob);
  const a = doc.createElement('a');
  a.href = url;
  a.download = fileName;
  a.rel = 'noopener';
  a.style.display = 'none';
  (doc.body ?? doc.documentElement).appendChild(a);
  a.click();
  a.remove();
  // The download reads the blob asynchronously; revoking at once can cut it off.
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
};
