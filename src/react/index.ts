/**
 * Ferry for React (`@ferry-telemetry/agent/react`): an error boundary that logs what it catches
 * with React's component stack, and a handler for React 19's root error options. React reports
 * errors that a boundary catches through `console.error`, not the window `error` event, so without
 * these they never reach the agent. Everything is logged through the main entry's `log`, which
 * this module imports rather than bundles: it writes into the agent that `init()` started.
 */
import { Component, type ErrorInfo, type ReactNode } from 'react';
import { log, type Severity } from '../agent/boot/index.js';

const DEFAULT_CATEGORY = 'React';

/** What a `fallback` function receives. */
export interface FallbackProps {
  /** What the children threw (usually an Error, but any value can be thrown). */
  error: unknown;
  /** Renders the children again, as if nothing had been thrown. */
  reset: () => void;
}

export interface FerryErrorBoundaryProps {
  children?: ReactNode;
  /**
   * Rendered in place of the children once they have thrown: an element, or a function of the
   * error and `reset`.
   * @defaultValue null (nothing is rendered)
   */
  fallback?: ReactNode | ((props: FallbackProps) => ReactNode);
  /** @defaultValue 'React' */
  category?: string;
  /** Called after the error has been logged, with React's component stack. */
  onError?: (error: unknown, componentStack: string) => void;
}

interface BoundaryState {
  // A flag beside the error: `throw undefined` is legal, so the error alone cannot say.
  caught: boolean;
  error: unknown;
}

const logReactError = (error: unknown, componentStack: string | null | undefined, category: string, severity: Severity): void =>
  log.exception(error, { severity, category, details: componentStack ? { componentStack } : undefined });

/**
 * Catches what its children throw while rendering (and in lifecycle methods and effects), logs it
 * as an `error` with the component stack in `details.componentStack`, and renders `fallback`.
 * A class because React has no hook for error boundaries.
 */
export class FerryErrorBoundary extends Component<FerryErrorBoundaryProps, BoundaryState> {
  // Minifiers rename classes; React DevTools and component stacks show this name instead.
  static displayName = 'FerryErrorBoundary';

  override state: BoundaryState = { caught: false, error: undefined };

  static getDerivedStateFromError(error: unknown): BoundaryState {
    return { caught: true, error };
  }

  override componentDidCatch(error: unknown, info: ErrorInfo): void {
    const componentStack = info?.componentStack ?? '';
    logReactError(error, componentStack, this.props.category ?? DEFAULT_CATEGORY, 'error');
    this.props.onError?.(error, componentStack);
  }

  reset = (): void => this.setState({ caught: false, error: undefined });

  override render(): ReactNode {
    if (!this.state.caught) return this.props.children;
    const { fallback } = this.props;
    return typeof fallback === 'function' ? fallback({ error: this.state.error, reset: this.reset }) : (fallback ?? null);
  }
}

/** What React 19 passes to `onCaughtError`, `onUncaughtError` and `onRecoverableError`. */
export interface ReactRootErrorInfo {
  componentStack?: string | null;
  /** onCaughtError only: the boundary that caught the error. */
  errorBoundary?: unknown;
}

export interface ReactErrorHandlerOptions {
  /** @defaultValue 'React' */
  category?: string;
  /** @defaultValue 'error' */
  severity?: Severity;
  /** Runs after the error has been logged (setting a root option replaces React's console report; this can bring it back). */
  callback?: (error: unknown, errorInfo: ReactRootErrorInfo) => void;
}

/**
 * A handler for React 19's `createRoot`/`hydrateRoot` options `onCaughtError`, `onUncaughtError`
 * and `onRecoverableError`: logs the error with its component stack. Errors a FerryErrorBoundary
 * caught are left to it, so they are logged once.
 */
export const reactErrorHandler =
  (options?: ReactErrorHandlerOptions) =>
  (error: unknown, errorInfo: ReactRootErrorInfo): void => {
    if (!(errorInfo?.errorBoundary instanceof FerryErrorBoundary))
      logReactError(error, errorInfo?.componentStack, options?.category ?? DEFAULT_CATEGORY, options?.severity ?? 'error');
    options?.callback?.(error, errorInfo);
  };
