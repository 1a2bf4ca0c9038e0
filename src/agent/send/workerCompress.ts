/** The sender's compression step, run in ferry-worker.js so the page reads and gzips nothing. */
import { acquireWorker, defaultWorkerUrl } from '../packager/workerClient.js';

export const compressInWorker = async (workerUrl: string | undefined, product: string, sessionId: string): Promise<void> => {
  const lease = await acquireWorker(workerUrl ?? defaultWorkerUrl());
  try {
    await lease.call((api) => api.compressSession(product, sessionId));
  } finally {
    lease.release();
  }
};
