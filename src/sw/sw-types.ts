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
export interface ServiceWorkerScope {
  addEventListener(type: 'sync', fn: (e: SyncEvent) => void): void;
  addEventListener(type: 'message', fn: (e: ExtendableMessageEvent) => void): void;
  addEventListener(type: 'install' | 'activate', fn: (e: ExtendableEvent) => void): void;
  skipWaiting(): Promise<void>;
  clients: { claim(): Promise<void> };
  navigator: Navigator;
}
