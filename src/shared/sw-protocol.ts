/** Messages from a page to Ferry's service-worker handlers (the one definition). */
import { SEND_ON_EXIT } from './names.js';

export type PageToServiceWorker = { type: typeof SEND_ON_EXIT; product: string; sessionId: string };

export const isPageMessage = (v: unknown): v is PageToServiceWorker => typeof v === 'object' && v !== null && (v as { type?: unknown }).type === SEND_ON_EXIT;
