// The few service-worker types Ferry uses. The project compiles with the DOM lib, which
// cannot be combined with the WebWorker lib in one program, so they are declared here.
export interface ExtendableEvent extends Event {
  waitUntil(p: Promise<unknown>): void;
}
export interface ExtendableMessageEvent extends ExtendableEvent {
  data: unknown;
}
export interface SyncEvent extends ExtendableEvent {
  tag: string;
  lastChance: boolean;
}
export interface FetchEvent extends ExtendableEvent {
  request: Request;
  respondWith(r: Response | Promise<Response>): void;
}
/** A rule of the static routing API (Chromium 123+): which requests skip the fetch handler. */
export interface RouterRule {
  condition: { urlPattern?: string; requestMode?: RequestMode; or?: RouterRule['condition'][]; not?: RouterRule['condition'] };
  source: 'network' | 'cache' | 'fetch-event';
}
export interface InstallEvent extends ExtendableEvent {
  addRoutes?(rules: RouterRule | RouterRule[]): Promise<void>;
}
export interface ServiceWorkerScope {
  addEventListener(type: 'sync', fn: (e: SyncEvent) => void): void;
  addEventListener(type: 'message', fn: (e: ExtendableMessageEvent) => void): void;
  addEventListener(type: 'fetch', fn: (e: FetchEvent) => void): void;
  addEventListener(type: 'install', fn: (e: InstallEvent) => void): void;
  addEventListener(type: 'activate', fn: (e: ExtendableEvent) => void): void;
  location: Location;
  skipWaiting(): Promise<void>;
  clients: { claim(): Promise<void> };
  navigator: Navigator;
}
