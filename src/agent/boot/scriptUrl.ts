/// <reference types="vite/client" />
// The URL of the agent script, next to which ferry-worker.js (and, for the script-tag build,
// ferry.js) is found. Only the entry module imports this file, so in the ESM build
// `import.meta.url` is the entry's own URL, not a shared chunk's under chunks/.

// Replaced at build time (vite `--mode iife`), so the branch not taken is dropped from the bundle.
const IIFE = import.meta.env?.MODE === 'iife';

const currentScript = (): string | undefined => {
  try {
    const s = document.currentScript;
    return s instanceof HTMLScriptElement && s.src ? s.src : undefined;
  } catch {
    return undefined;
  }
};

/** Captured while the script runs: `document.currentScript` is gone afterwards. */
export const scriptUrl: string | undefined = IIFE ? currentScript() : import.meta.url;
