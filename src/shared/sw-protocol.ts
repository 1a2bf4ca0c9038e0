/** Messages from a page to Ferry's service-worker handlers (the one definition). */
export type PageToServiceWorker = { type: 'ferry:send-on-exit'; product: string; sessionId: string };

export const isPageMessage = (v: unknown): v is PageToServiceWorker =>
  typeof v === 'object' && v !== null && (v as { type?: unknown }).type === 'ferry:send-on-exit';
