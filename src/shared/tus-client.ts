/**
 * A tus 1.0.0 client (core + creation) over an injected `fetch`, so it runs in a page, a worker
 * and a service worker (which has no XMLHttpRequest). Resume state is handed to the caller to
 * keep in IndexedDB (never localStorage, which workers lack).
 */

import { networkError, responseError, SendError } from './http-errors.js';
import { TUS } from './protocol.js';

export interface UploadState {
  /** The upload's URL once created. */
  url?: string;
  /** Bytes the server has confirmed. */
  offset: number;
}

export interface TusUploadOptions {
  /** Creation endpoint, e.g. `https://collector/api/v1/uploads`. */
  endpoint: string;
  blob: Blob;
  metadata: Record<string, string>;
  /** Extra headers on every request (Authorization). */
  headers: Record<string, string>;
  chunkSize: number;
  state: UploadState;
  /** Called after every confirmed step, to persist the resume point. */
  saveState(state: UploadState): Promise<void> | void;
  onProgress?(confirmed: number, total: number): void;
  fetch?: typeof fetch;
  signal?: AbortSignal;
}

export interface TusResult {
  url: string;
  /** Bytes sent in PATCH bodies by this call (to measure what a resume re-sent). */
  bytesSent: number;
  resumedFrom: number;
}

const base64Utf8 = (s: string): string => {
  const bytes = new TextEncoder().encode(s);
  let bin = '';
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin);
};

export const encodeMetadata = (m: Record<string, string>): string =>
  Object.entries(m)
    .map(([k, v]) => `${k} ${base64Utf8(v)}`)
    .join(',');

/** Uploads `blob`, resuming from `state`; resolves once the server confirmed the last byte. */
export const tusUpload = async (o: TusUploadOptions): Promise<TusResult> => {
  const doFetch = o.fetch ?? globalThis.fetch.bind(globalThis);
  const base = { 'Tus-Resumable': TUS.version, ...o.headers };
  const state: UploadState = { ...o.state };
  const total = o.blob.size;
  let bytesSent = 0;

  const request = async (what: string, url: string, init: RequestInit): Promise<Response> => {
    try {
      return await doFetch(url, { ...init, signal: o.signal, cache: 'no-store' });
    } catch (e) {
      if (o.signal?.aborted) throw e;
      throw networkError(what, url, e);
    }
  };

  const create = async (): Promise<void> => {
    const res = await request('creating the upload at', o.endpoint, {
      method: 'POST',
      headers: { ...base, 'Upload-Length': String(total), 'Upload-Metadata': encodeMetadata(o.metadata) },
    });
    if (res.status !== 201) throw await responseError('creating the upload at', o.endpoint, res);
    // Read to the end: a body left unread is cancelled by the browser, which shows as a failed request.
    await res.arrayBuffer().catch(() => undefined);
    const location = res.headers.get('location');
    if (!location) throw new SendError(`creating the upload at ${o.endpoint}: no Location header`, o.endpoint, 201, false);
    state.url = new URL(location, o.endpoint).href;
    state.offset = 0;
    await o.saveState({ ...state });
  };

  /** Asks the server where the upload stands; false when it no longer exists. */
  const head = async (url: string): Promise<boolean> => {
    const res = await request('checking the upload at', url, { method: 'HEAD', headers: base });
    if (res.status === 404 || res.status === 410) return false;
    if (!res.ok) throw await responseError('checking the upload at', url, res);
    const offset = Number(res.headers.get('upload-offset'));
    if (!Number.isSafeInteger(offset) || offset < 0 || offset > total)
      throw new SendError(`checking the upload at ${url}: bad Upload-Offset`, url, res.status, false);
    state.offset = offset;
    await o.saveState({ ...state });
    return true;
  };

  if (state.url) {
    if (!(await head(state.url))) await create();
  } else {
    await create();
  }
  const resumedFrom = state.offset;
  o.onProgress?.(state.offset, total);
  // A server that keeps answering 409/404 must not keep us looping inside one call.
  let detours = 0;
  const detour = (url: string, status: number): void => {
    if (++detours > 3) throw new SendError(`uploading to ${url}: the server answered ${status} repeatedly`, url, status, true);
  };

  while (true) {
    const url = state.url!;
    if (state.offset >= total && total > 0) break;
    const end = Math.min(total, state.offset + o.chunkSize);
    const body = o.blob.slice(state.offset, end);
    const res = await request('uploading to', url, {
      method: 'PATCH',
      headers: { ...base, 'Upload-Offset': String(state.offset), 'Content-Type': TUS.contentType },
      body,
    });
    bytesSent += end - state.offset;
    if (res.status === 409) {
      detour(url, 409);
      // Someone (an earlier attempt whose reply was lost) moved the offset: ask and go on.
      if (!(await head(url))) await create();
      continue;
    }
    if (res.status === 404 || res.status === 410) {
      detour(url, res.status);
      await create();
      continue;
    }
    if (!res.ok) throw await responseError('uploading to', url, res);
    const offset = Number(res.headers.get('upload-offset'));
    state.offset = Number.isSafeInteger(offset) && offset >= 0 ? offset : end;
    await o.saveState({ ...state });
    o.onProgress?.(state.offset, total);
    if (total === 0 || state.offset >= total) break;
  }
  return { url: state.url!, bytesSent, resumedFrom };
};
