/** A tiny typed event emitter; a throwing handler is reported, never propagated. */
import { monitorError } from './monitor.js';

export type Handler<T> = (payload: T) => void;

export interface Emitter<E extends object> {
  on<K extends keyof E>(event: K, handler: Handler<E[K]>): () => void;
  emit<K extends keyof E>(event: K, payload: E[K]): void;
}

export const createEmitter = <E extends object>(): Emitter<E> => {
  const handlers = new Map<keyof E, Set<Handler<never>>>();
  return {
    on(event, handler) {
      let set = handlers.get(event);
      if (!set) handlers.set(event, (set = new Set()));
      set.add(handler as Handler<never>);
      return () => set.delete(handler as Handler<never>);
    },
    emit(event, payload) {
      for (const h of handlers.get(event) ?? []) {
        try {
          (h as Handler<typeof payload>)(payload);
        } catch (e) {
          monitorError(`${String(event)} handler`, e);
        }
      }
    },
  };
};
