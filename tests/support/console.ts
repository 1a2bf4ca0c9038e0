/**
 * Records what the code under test writes with console.warn (still printing it). Import it before
 * that code: the agent's monitor binds console.warn once, when its module loads.
 */
export const warnings: string[] = [];
const original = console.warn.bind(console);
console.warn = (...args: unknown[]): void => {
  warnings.push(args.map((a) => (a instanceof Error ? `${a.name}: ${a.message}` : String(a))).join(' '));
  original(...args);
};
