// Automatic capture of uncaught errors, unhandled rejections and (optionally) console calls.
import type { Severity } from '../../shared/severity.js';
import { safeString } from './normalize.js';

export type Record = (severity: Severity, category: string, text: unknown, details?: unknown, exception?: unknown) => void;

export interface Capture {
  stop(): void;
}

export const captureErrors = (record: Record, target: Window = window): Capture => {
  const onError = (e: ErrorEvent): void => {
    const where = e.filename ? { file: e.filename, line: e.lineno, column: e.colno } : undefined;
    const err: unknown = e.error ?? { name: 'Error', message: e.message };
    record('error', 'Uncaught', e.message || safeString(err), where, err);
  };
  target.addEventListener('error', onError);
  return { stop: () => target.removeEventListener('error', onError) };
};

export const captureRejections = (record: Record, target: Window = window): Capture => {
  const onRejection = (e: PromiseRejectionEvent): void => {
    const reason: unknown = e.reason;
    const text = reason instanceof Error ? reason.message : safeString(reason);
    record('error', 'UnhandledRejection', text, undefined, reason ?? { name: 'UnhandledRejection', message: 'undefined' });
  };
  target.addEventListener('unhandledrejection', onRejection);
  return { stop: () => target.removeEventListener('unhandledrejection', onRejection) };
};

const CONSOLE_LEVELS: [keyof Console & ('error' | 'warn' | 'info' | 'log' | 'debug'), Severity][] = [
  ['error', 'error'],
  ['warn', 'warning'],
  ['info', 'information'],
  ['log', 'information'],
  ['debug', 'verbose'],
];

/** Wraps console methods; the original always runs, and the agent's own warnings are not captured. */
export const captureConsole = (record: Record, target: Console = console): Capture => {
  const saved = new Map<string, (...args: unknown[]) => void>();
  let inside = false;
  for (const [method, severity] of CONSOLE_LEVELS) {
    const original = target[method] as (...args: unknown[]) => void;
    saved.set(method, original);
    target[method] = function (this: unknown, ...args: unknown[]) {
      if (!inside) {
        inside = true;
        try {
          const first = args[0];
          const text = args.map((a) => safeString(a)).join(' ');
          const err = args.find((a) => a instanceof Error);
          record(severity, 'Console', text, undefined, err ?? (severity === 'error' && first instanceof Error ? first : undefined));
        } catch {
          // never let capture break the app's console
        } finally {
          inside = false;
        }
      }
      return original.apply(this, args);
    };
  }
  return {
    stop: () => {
      for (const [method, fn] of saved) (target as unknown as { [k: string]: unknown })[method] = fn;
    },
  };
};
