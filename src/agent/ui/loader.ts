/// <reference types="vite/client" />
/**
 * The dialogs as the core agent exposes them: a few hundred bytes that load the UI chunk
 * (src/agent/ui/index.ts) on first use, and the `<ferry-report-button>` element that opens the
 * report dialog. The script-tag build takes the chunk from the ESM build, as for the packager.
 */

import { esmBuild } from '../packager/loader.js';
import type { PackagerApi } from '../packager/types.js';
import type { UiAgent, UiKind } from './host.js';
import type * as UiModule from './index.js';

type Ui = typeof UiModule;
const IIFE = import.meta.env?.MODE === 'iife';

/** @internal The UI chunk, for the script-tag build (which loads this file's ESM build). */
export const __loadUi = (): Promise<Ui> => (IIFE ? Promise.reject(new Error('__loadUi is served by the ESM build')) : import('./index.js'));

/** Opens one of the dialogs (or the notice), loading the chunk first; a failed load is tried again at the next call (import() failures are not cached). */
export const createUiApi =
  (agent: () => UiAgent | undefined, packager: PackagerApi, scriptUrl: string | undefined) =>
  (kind: UiKind, options?: object): Promise<unknown> => {
    const a = agent();
    if (!a) return Promise.reject(new Error('Ferry: call init() first'));
    // Answered already (the usual page load): nothing to load.
    if (kind === 'consent' && a.consentAnswered()) return Promise.resolve(a.consentGranted());
    return (IIFE ? esmBuild(scriptUrl).then((m) => m.__loadUi()) : import('./index.js')).then((m) => m.open(kind, a, packager, options));
  };

/**
 * `<ferry-report-button>`: a button (its text is the element's content) that opens the report
 * dialog; style it with `ferry-report-button::part(button)`.
 */
export const defineReportButton = (open: () => void): void => {
  const name = 'ferry-report-button';
  customElements.get(name) ||
    customElements.define(
      name,
      class extends HTMLElement {
        connectedCallback(): void {
          if (this.shadowRoot) return;
          this.attachShadow({ mode: 'open' }).innerHTML = '<button part=button><slot>Report a problem</slot></button>';
          this.onclick = open;
        }
      },
    );
};
