/**
 * Every name Ferry claims in the browser: IndexedDB databases, BroadcastChannels, Web Locks,
 * the Background Sync tag, localStorage keys, message types and picker ids. Defined once here so
 * page, worker and service worker can never disagree on one.
 */
const PREFIX = 'ferry:';

/** IndexedDB database of a product (one per product and origin). */
export const dbName = (product: string): string => `${PREFIX}${product}`;
/** The product a database name belongs to, or undefined for a database that is not Ferry's. */
export const productOfDb = (name: string): string | undefined => (name.startsWith(PREFIX) ? name.slice(PREFIX.length) : undefined);

/** BroadcastChannel between the product's tabs and the service worker. */
export const channelName = (product: string): string => `${PREFIX}${product}`;

/** Held by a live session for its whole life; free while `running` means the tab is gone. */
export const liveLockName = (sessionId: string): string => `${PREFIX}live:${sessionId}`;
/**
 * `:` and `%` are escaped in a lock name's parts, so that product "a:b" with application "c" and
 * product "a" with application "b:c" never wait for one lock; names without them read as given.
 */
const part = (s: string): string => s.replace(/[%:]/g, (c) => (c === '%' ? '%25' : '%3A'));
/** Held by the elected sender of a product (or of one application of it). */
export const senderLockName = (product: string, application?: string): string =>
  application === undefined ? `${PREFIX}sender:${part(product)}` : `${PREFIX}sender:${part(product)}:${part(application)}`;
/** Held while one context uploads a session's detail, so no two upload it at once. */
export const uploadLockName = (sessionId: string): string => `${PREFIX}upload:${sessionId}`;

/** Held while a tab sends sessions marked `sendOnExit` (no service worker took them), so two tabs never send them at once. */
export const exitSendLockName = (product: string): string => `${PREFIX}exit-send:${part(product)}`;

/** Background Sync tag registered when an upload fails for lack of network. */
export const SYNC_TAG = 'ferry-upload';

/** localStorage: a session ended at pagehide (read where the IndexedDB write was lost). */
export const endMarkPrefix = (product: string): string => `${PREFIX}${product}:ended:`;
/** localStorage: remembers that the product's database existed (an emptied one looks new). */
export const watermarkKey = (product: string): string => `${PREFIX}${product}:watermark`;

/** Page → service worker: send this session once its page has gone. */
export const SEND_ON_EXIT = 'ferry:send-on-exit';
/** Hands the worker API to another context over a MessagePort. */
export const CONNECT_MESSAGE = 'ferry-connect';
/** File and folder pickers remember the last place under this id. */
export const PICKER_ID = 'ferry-packages';

/** Cache Storage: the agent's own files, kept by the ready-made service worker (one cache per build). */
export const PRECACHE_PREFIX = `${PREFIX}agent:`;
/** Query parameter of the ready-made service worker's URL: where the agent's files are served. */
export const AGENT_BASE_PARAM = 'agent';
