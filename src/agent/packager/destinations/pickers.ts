/**
 * The File System Access pickers, which TypeScript's DOM library does not declare (Chromium
 * only; Firefox and Safari have neither, so both destinations fall back to a download).
 */
export interface SaveFilePickerOptions {
  suggestedName?: string;
  id?: string;
  types?: { description?: string; accept: Record<string, string[]> }[];
  excludeAcceptAllOption?: boolean;
}

export interface DirectoryPickerOptions {
  id?: string;
  mode?: 'read' | 'readwrite';
}

export interface PickerWindow {
  showSaveFilePicker?: (options?: SaveFilePickerOptions) => Promise<FileSystemFileHandle>;
  showDirectoryPicker?: (options?: DirectoryPickerOptions) => Promise<FileSystemDirectoryHandle>;
}

type PermissionHandle = FileSystemHandle & {
  queryPermission?: (d: { mode: 'readwrite' }) => Promise<PermissionState>;
  requestPermission?: (d: { mode: 'readwrite' }) => Promise<PermissionState>;
};

/** Write permission on a handle the app supplied (a picked one already has it). */
export const ensureWritable = async (handle: FileSystemHandle): Promise<boolean> => {
  const h = handle as PermissionHandle;
  if (!h.queryPermission) return true;
  if ((await h.queryPermission({ mode: 'readwrite' })) === 'granted') return true;
  return (await h.requestPermission?.({ mode: 'readwrite' })) === 'granted';
};

/** The user closed the picker. */
export const isCancel = (e: unknown): boolean => (e as { name?: unknown } | null)?.name === 'AbortError';
