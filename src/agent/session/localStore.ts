/** localStorage, or undefined where the browser's storage settings block it. */
export const localStore = (): Storage | undefined => {
  try {
    return globalThis.localStorage;
  } catch {
    return undefined;
  }
};
