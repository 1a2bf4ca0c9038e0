/**
 * The viewer's offline package opener, run as a dedicated Web Worker: reads a `.ferry.zip` the
 * user picked with the package reader the agent's tools use (core/package/read.ts), in the page's
 * own browser (nothing is uploaded), and answers with the manifest and, on request, one session's
 * messages. Bundled on demand by the collector (src/server/viewer-assets.ts).
 */
import { type OpenedPackage, readPackage } from '../core/package/read.js';
import type { LogMessage } from '../shared/message.js';

type Request = { type: 'open'; file: Blob } | { type: 'messages'; sessionId: string; id: number };

let opened: OpenedPackage | undefined;
const scope = self as unknown as { onmessage: ((e: MessageEvent<Request>) => void) | null; postMessage(m: unknown): void };

scope.onmessage = async (e) => {
  const r = e.data;
  try {
    if (r.type === 'open') {
      opened = await readPackage(r.file);
      scope.postMessage({ type: 'opened', manifest: opened.manifest, name: (r.file as File).name ?? 'package' });
      return;
    }
    if (!opened) throw new Error('no package is open');
    const out: LogMessage[] = [];
    for await (const block of opened.messageBlocks(r.sessionId)) out.push(...block);
    scope.postMessage({ type: 'messages', id: r.id, sessionId: r.sessionId, messages: out });
  } catch (err) {
    scope.postMessage({ type: 'error', id: r.type === 'messages' ? r.id : undefined, message: (err as Error).message ?? String(err) });
  }
};
