// Types for import-rules.mjs, so the TypeScript unit test calls it checked (tsconfig has no allowJs).
export type Folder = 'shared' | 'core' | 'agent' | 'worker' | 'sw' | 'server' | 'react' | 'vue';
export type ImportKind = 'static' | 'type' | 'dynamic';

/** The agent's public entry, relative to src/. */
export declare const AGENT_ENTRY: 'agent/boot/index.ts';
/** A folder, or one file (a path relative to src/ with a '/'). */
export declare const ALLOWED: Readonly<Record<Folder, readonly (Folder | typeof AGENT_ENTRY)[]>>;

export interface FoundImport {
  /** undefined for `import(expr)` with a computed specifier */
  spec: string | undefined;
  line: number;
  kind: ImportKind;
}

export interface Site {
  file: string;
  line: number;
}

export interface Violation extends Site {
  spec?: string;
  message: string;
}

export interface ImportSite extends Site {
  spec: string;
  kind: ImportKind;
}

export interface Cycle {
  /** files from the first back to the first again: a → b → a */
  path: string[];
  typeOnly: boolean;
  /** one import per hop: hops[i] is how path[i] imports path[i + 1] */
  hops: ImportSite[];
}

export interface CheckOptions {
  srcDir: string;
  /** paths in the result are relative to this; default: the parent of srcDir */
  root?: string;
  allowTypeOnlyCycles?: boolean;
  maxCycles?: number;
}

export interface CheckResult {
  files: number;
  edges: number;
  direction: Violation[];
  unresolved: Violation[];
  computed: Site[];
  cycles: Cycle[];
  allowedCycles: Cycle[];
  cyclesTruncated: boolean;
  allowTypeOnlyCycles: boolean;
  ok: boolean;
}

export declare const findImports: (file: string, text: string) => FoundImport[];
export declare const checkImports: (options: CheckOptions) => CheckResult;
export declare const formatReport: (result: CheckResult) => string[];
