/**
 * Ferry for Vue 3 (`@ferry-telemetry/agent/vue`): `app.use(FerryVue)` logs every error Vue hands
 * to `app.config.errorHandler` (render, watchers, lifecycle hooks, event handlers), which Vue
 * otherwise reports through `console.error`, not the window `error` event. Logs through the main
 * entry's `log`, which this module imports rather than bundles, so it writes into the agent that
 * `init()` started. Only Vue's types are imported: the plugin adds no Vue code to a bundle.
 */
import type { App, ComponentPublicInstance } from 'vue';
import { log } from '../agent/boot/index.js';

export interface FerryVueOptions {
  /** @defaultValue 'Vue' */
  category?: string;
}

/** Innermost first; a long chain of parents says nothing more useful than its first few. */
const MAX_TRACE = 20;

// `name` is what a component declares; `__name` is what the SFC compiler infers from the file name.
const nameOf = (vm: ComponentPublicInstance): string | undefined => {
  const o = vm.$options as { name?: unknown; __name?: unknown };
  const name = o.name ?? o.__name;
  return typeof name === 'string' && name !== '' ? name : undefined;
};

const traceOf = (vm: ComponentPublicInstance): string[] => {
  const names: string[] = [];
  for (let v: ComponentPublicInstance | null = vm; v && names.length < MAX_TRACE; v = v.$parent) names.push(nameOf(v) ?? 'Anonymous');
  return names;
};

const details = (instance: ComponentPublicInstance | null, info: string): { component?: string; componentTrace?: string[]; info: string } => {
  try {
    return instance ? { component: nameOf(instance), componentTrace: traceOf(instance), info } : { info };
  } catch {
    // A proxy of an unmounted or odd component may refuse to be read; the error itself still counts.
    return { info };
  }
};

/**
 * The plugin: `app.use(FerryVue, { category })`. An errorHandler already installed keeps running
 * after Ferry has logged; without one, the error is also written to the console as Vue's own
 * production handler would, so installing the plugin does not hide errors from developers.
 */
export const FerryVue = {
  install(app: App, options?: FerryVueOptions): void {
    const category = options?.category ?? 'Vue';
    const previous = app.config.errorHandler;
    app.config.errorHandler = (error, instance, info) => {
      log.exception(error, { category, details: details(instance, info) });
      if (previous) previous(error, instance, info);
      else console.error(error);
    };
  },
};
