/**
 * The few DOM helpers the dialogs share: an element builder, a shadow-root host (so the app's CSS
 * cannot reach in, and the dialogs' cannot leak out) and a focus trap for modal dialogs.
 */
import { STYLES } from './styles.js';

type Child = Node | string | false | null | undefined;
type Props = Record<string, string | boolean | number | EventListener | undefined>;

export const h = <K extends keyof HTMLElementTagNameMap>(tag: K, props: Props = {}, ...children: Child[]): HTMLElementTagNameMap[K] => {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (v === undefined || v === false) continue;
    if (typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'value' || k === 'checked') (el as unknown as Record<string, unknown>)[k] = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  el.append(...children.filter((c): c is Node | string => c !== false && c !== null && c !== undefined));
  return el;
};

let ids = 0;
/** An id unique in the page (ids inside one shadow root only need to be unique there, but cheap to make so). */
export const uid = (what: string): string => `ferry-${what}-${++ids}`;

export interface Host {
  element: HTMLElement;
  root: ShadowRoot;
  remove(): void;
}

/**
 * A custom-element-free host in shadow DOM, appended to the body: `all: initial` stops inherited
 * app styles, and the theme comes in only through the `--ferry-*` custom properties (which do
 * inherit into shadow roots by design).
 */
export const mountHost = (kind: string): Host => {
  const element = document.createElement('ferry-ui');
  element.setAttribute('data-ferry', kind);
  const root = element.attachShadow({ mode: 'open' });
  const style = document.createElement('style');
  style.textContent = STYLES;
  root.append(style);
  (document.body ?? document.documentElement).append(element);
  return { element, root, remove: () => element.remove() };
};

const FOCUSABLE =
  'a[href],button:not([disabled]),input:not([disabled]),textarea:not([disabled]),select:not([disabled]),summary,[tabindex]:not([tabindex="-1"])';

/** Elements Tab can reach in `container`, in order (hidden ones left out). */
export const focusables = (container: ParentNode): HTMLElement[] =>
  [...container.querySelectorAll<HTMLElement>(FOCUSABLE)].filter((el) => el.offsetParent !== null || el.getClientRects().length > 0);

/**
 * Keeps Tab and Shift+Tab inside `dialog`: a modal `<dialog>` makes the page inert, but Tab would
 * still leave for the browser's own UI; the focus wraps instead, as WAI-ARIA's dialog pattern asks.
 */
export const trapFocus = (dialog: HTMLElement, root: ShadowRoot): void => {
  dialog.addEventListener('keydown', (e) => {
    if (e.key !== 'Tab') return;
    const list = focusables(dialog);
    if (list.length === 0) return;
    const first = list[0];
    const last = list[list.length - 1];
    const active = root.activeElement;
    if (e.shiftKey && (active === first || !dialog.contains(active))) {
      e.preventDefault();
      last.focus();
    } else if (!e.shiftKey && (active === last || !dialog.contains(active))) {
      e.preventDefault();
      first.focus();
    }
  });
};
