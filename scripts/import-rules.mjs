// The import rules of DESIGN.md §7, as a function the CLI (check-imports.mjs) and its unit test
// share. The TypeScript parser (already a dependency) finds the imports, so `import type` can be
// told apart from imports that survive into the bundle.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import { dirname, join, relative, resolve, sep } from 'node:path';
import ts from 'typescript';

/** The agent's public entry, the one agent file another layer may import. */
export const AGENT_ENTRY = 'agent/boot/index.ts';

/**
 * Which folders each folder of src/ may import from; a name with a '/' is one file under src/.
 * The framework layers reach the agent only through its public entry, which the build keeps
 * external to them (vite.config.ts), so they log into the app's one agent.
 */
export const ALLOWED = {
  shared: ['shared'],
  core: ['core', 'shared'],
  agent: ['agent', 'core', 'shared'],
  worker: ['worker', 'core', 'shared'],
  sw: ['sw', 'core', 'shared'],
  server: ['server', 'shared'],
  react: ['react', 'shared', AGENT_ENTRY],
  vue: ['vue', 'shared', AGENT_ENTRY],
};

// Every layer but the collector runs in a page, worker or service worker, where Node's modules do not exist.
const NO_NODE_BUILTINS = new Set(['shared', 'core', 'react', 'vue']);

const SOURCE_EXT = /\.(ts|tsx|mts|cts|js|jsx|mjs|cjs)$/;

// Under verbatimModuleSyntax, `import { type A } from './a.js'` still emits `import {} from './a.js'`,
// which evaluates a.js; only `import type` / `export type` disappear. So only those are type-only.
const isTypeOnlyImport = (node) => node.importClause?.phaseModifier === ts.SyntaxKind.TypeKeyword;

const walk = (dir, out) => {
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (SOURCE_EXT.test(name)) out.push(p);
  }
  return out;
};

const scriptKind = (file) =>
  /\.(js|mjs|cjs)$/.test(file) ? ts.ScriptKind.JS : /\.jsx$/.test(file) ? ts.ScriptKind.JSX : /\.tsx$/.test(file) ? ts.ScriptKind.TSX : ts.ScriptKind.TS;

const stringArg = (node) => (node && (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) ? node.text : undefined);

/** Every import of one file: static, `import type`, re-exports, `import('…')` and `typeof import('…')`. */
export const findImports = (file, text) => {
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, scriptKind(file));
  const found = [];
  const lineOf = (node) => sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1;
  const visit = (node) => {
    if (ts.isImportDeclaration(node)) {
      const spec = stringArg(node.moduleSpecifier);
      if (spec !== undefined) found.push({ spec, line: lineOf(node), kind: isTypeOnlyImport(node) ? 'type' : 'static' });
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier) {
      const spec = stringArg(node.moduleSpecifier);
      if (spec !== undefined) found.push({ spec, line: lineOf(node), kind: node.isTypeOnly ? 'type' : 'static' });
    } else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)) {
      const spec = stringArg(node.moduleReference.expression);
      if (spec !== undefined) found.push({ spec, line: lineOf(node), kind: node.isTypeOnly ? 'type' : 'static' });
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      const spec = stringArg(node.arguments[0]);
      // A computed specifier (`import(url)`) is kept with no spec, so the report can say it went unchecked.
      found.push({ spec, line: lineOf(node), kind: 'dynamic' });
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) {
      const spec = stringArg(node.argument.literal);
      if (spec !== undefined) found.push({ spec, line: lineOf(node), kind: 'type' });
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return found;
};

// Bundler-style resolution of a relative specifier: './x.js' is the source file './x.ts'.
const resolveRelative = (fromFile, spec) => {
  const base = resolve(dirname(fromFile), spec.replace(/[?#].*$/, ''));
  const stem = base.replace(/\.(js|jsx|mjs|cjs)$/, '');
  const swapped = base.endsWith('.mjs') ? ['.mts', '.d.mts'] : base.endsWith('.cjs') ? ['.cts', '.d.cts'] : ['.ts', '.tsx', '.d.ts'];
  const candidates =
    stem === base
      ? [base, ...['.ts', '.tsx', '.d.ts', '.js', '.mjs'].map((e) => base + e), ...['index.ts', 'index.tsx', 'index.js'].map((i) => join(base, i))]
      : [...swapped.map((e) => stem + e), base];
  return candidates.find((c) => existsSync(c) && statSync(c).isFile());
};

const folderOf = (srcDir, file) => {
  const rel = relative(srcDir, file);
  const top = rel.split(sep)[0];
  return rel.includes(sep) && Object.hasOwn(ALLOWED, top) ? top : undefined;
};

/**
 * Elementary cycles of the graph, each once, starting at its smallest file. Plain path search
 * from each start over the larger files of its strongly connected component: the src graph is a
 * few hundred files, and `limit` stops a pathological tangle from printing forever.
 */
const findCycles = (nodes, edges, limit) => {
  const index = new Map(nodes.map((n, i) => [n, i]));
  const next = (n) => [...(edges.get(n)?.keys() ?? [])].sort();
  // Tarjan's strongly connected components, so the path search stays inside each tangle.
  const comp = new Map();
  const low = new Map();
  const order = new Map();
  const stack = [];
  const onStack = new Set();
  let counter = 0;
  const strong = (v) => {
    order.set(v, counter);
    low.set(v, counter++);
    stack.push(v);
    onStack.add(v);
    for (const w of next(v)) {
      if (!order.has(w)) {
        strong(w);
        low.set(v, Math.min(low.get(v), low.get(w)));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v), order.get(w)));
    }
    if (low.get(v) === order.get(v)) {
      let w;
      do {
        w = stack.pop();
        onStack.delete(w);
        comp.set(w, v);
      } while (w !== v);
    }
  };
  for (const n of nodes) if (!order.has(n)) strong(n);

  const cycles = [];
  let truncated = false;
  for (const start of nodes) {
    const path = [start];
    const onPath = new Set([start]);
    const search = (v) => {
      for (const w of next(v)) {
        if (cycles.length >= limit) {
          truncated = true;
          return;
        }
        if (comp.get(w) !== comp.get(start) || index.get(w) < index.get(start)) continue;
        if (w === start) cycles.push([...path, start]);
        else if (!onPath.has(w)) {
          path.push(w);
          onPath.add(w);
          search(w);
          path.pop();
          onPath.delete(w);
        }
      }
    };
    search(start);
  }
  return { cycles, truncated };
};

/**
 * Modules with no file on disk because the collector generates them when asked (the viewer's
 * protocol constants, made from src/shared/protocol.ts so they are defined once).
 */
const GENERATED = new Set(['src/server/viewer/protocol.js']);

/**
 * Checks every source file under `srcDir` against the folder rules and for import cycles.
 * Paths in the result are relative to `root` (default: the parent of srcDir), with '/'.
 */
export const checkImports = ({ srcDir, root = dirname(resolve(srcDir)), allowTypeOnlyCycles = false, maxCycles = 200 }) => {
  const src = resolve(srcDir);
  const show = (p) => relative(root, p).split(sep).join('/');
  const files = walk(src, []);
  const direction = [];
  const unresolved = [];
  const computed = [];
  // from → to → import sites; one pair can be imported several ways (a type and a value import).
  const edges = new Map();
  let edgeCount = 0;

  for (const file of files) {
    const from = folderOf(src, file);
    if (!from) {
      direction.push({
        file: show(file),
        line: 1,
        message: `is not inside one of the folders ${Object.keys(ALLOWED).join(', ')} of ${show(src)}/, so no rule covers it`,
      });
    }
    for (const imp of findImports(file, readFileSync(file, 'utf8'))) {
      const at = { file: show(file), line: imp.line };
      if (imp.spec === undefined) {
        computed.push(at);
        continue;
      }
      if (!imp.spec.startsWith('.') && !imp.spec.startsWith('/')) {
        if (from && NO_NODE_BUILTINS.has(from) && isBuiltin(imp.spec)) {
          direction.push({
            ...at,
            spec: imp.spec,
            message: `${from} imports the Node built-in '${imp.spec}'; ${from} must run in the page, worker and service worker`,
          });
        }
        continue;
      }
      const target = resolveRelative(file, imp.spec);
      if (!target && GENERATED.has(show(resolve(dirname(file), imp.spec)))) continue;
      if (!target) {
        unresolved.push({ ...at, spec: imp.spec, message: `'${imp.spec}' resolves to no file` });
        continue;
      }
      const rel = relative(src, target);
      if (rel.startsWith('..')) {
        direction.push({ ...at, spec: imp.spec, message: `imports ${show(target)}, outside ${show(src)}/` });
        continue;
      }
      edgeCount++;
      if (!edges.has(file)) edges.set(file, new Map());
      const sites = edges.get(file).get(target) ?? [];
      sites.push({ ...at, spec: imp.spec, kind: imp.kind });
      edges.get(file).set(target, sites);
      const to = folderOf(src, target);
      const allowed = from && to && ALLOWED[from].some((a) => (a.includes('/') ? a === rel.split(sep).join('/') : a === to));
      if (from && to && !allowed) {
        const why =
          to === 'agent' && !ALLOWED[from].includes(AGENT_ENTRY)
            ? 'nothing outside agent imports from agent'
            : to === 'agent'
              ? `${from} may import the agent only through its public entry ${show(join(src, AGENT_ENTRY))}`
              : `${from} may import ${ALLOWED[from].join(', ')}`;
        direction.push({
          ...at,
          spec: imp.spec,
          message: `${from} → ${to}: ${imp.kind === 'type' ? 'import type ' : ''}'${imp.spec}' (${show(target)}); ${why}`,
        });
      }
    }
  }

  const { cycles: found, truncated } = findCycles(files, edges, maxCycles);
  const cycles = found.map((path) => {
    const hops = path.slice(0, -1).map((a, i) => edges.get(a).get(path[i + 1]));
    const typeOnly = hops.every((sites) => sites.every((s) => s.kind === 'type'));
    return {
      path: path.map(show),
      typeOnly,
      // The hop's strongest import: a value import keeps the cycle at run time even beside a type one.
      hops: hops.map((sites) => sites.find((s) => s.kind === 'static') ?? sites.find((s) => s.kind === 'dynamic') ?? sites[0]),
    };
  });
  const failing = cycles.filter((c) => !(allowTypeOnlyCycles && c.typeOnly));
  return {
    files: files.length,
    edges: edgeCount,
    direction,
    unresolved,
    computed,
    cycles: failing,
    allowedCycles: cycles.filter((c) => !failing.includes(c)),
    cyclesTruncated: truncated,
    allowTypeOnlyCycles,
    ok: direction.length === 0 && unresolved.length === 0 && failing.length === 0,
  };
};

/** The report check-imports.mjs prints, as lines. */
export const formatReport = (r) => {
  const lines = [];
  const cycleMode = r.allowTypeOnlyCycles ? 'cycles made only of `import type` are allowed' : 'every cycle counts, `import type` ones too';
  const hop = (h) => `    ${`${h.file}:${h.line}`.padEnd(44)} ${h.kind === 'type' ? 'import type' : h.kind === 'dynamic' ? 'import()' : 'import'} '${h.spec}'`;
  if (r.ok) {
    const allowed = r.allowedCycles.length ? `, ${r.allowedCycles.length} type-only cycle(s) allowed` : '';
    lines.push(`check-imports: OK, ${r.files} files, ${r.edges} imports between them, no direction violation, no cycle (${cycleMode})${allowed}`);
  } else {
    const count = r.direction.length + r.unresolved.length + r.cycles.length;
    lines.push(`check-imports: ${count} problem(s) in ${r.files} files (${r.edges} imports between them)`);
  }
  if (r.direction.length) {
    lines.push(
      '',
      `Direction (docs/architecture.md: shared ← core ← agent | worker | sw; agent's entry ← react | vue; server ← shared): ${r.direction.length}`,
    );
    for (const v of r.direction) lines.push(`  ${`${v.file}:${v.line}`.padEnd(46)} ${v.message}`);
  }
  if (r.unresolved.length) {
    lines.push('', `Unresolved: ${r.unresolved.length}`);
    for (const v of r.unresolved) lines.push(`  ${`${v.file}:${v.line}`.padEnd(46)} ${v.message}`);
  }
  if (r.cycles.length) {
    lines.push('', `Cycles (static, dynamic and type imports; ${cycleMode}): ${r.cycles.length}${r.cyclesTruncated ? ', listing stopped' : ''}`);
    for (const c of r.cycles) {
      lines.push(`  ${c.path.join(' → ')}${c.typeOnly ? '   [type-only]' : ''}`);
      for (const h of c.hops) lines.push(hop(h));
    }
  }
  if (r.allowedCycles.length && !r.ok) {
    lines.push('', `Allowed, made only of \`import type\`: ${r.allowedCycles.length}`);
    for (const c of r.allowedCycles) lines.push(`  ${c.path.join(' → ')}`);
  }
  if (r.computed.length) {
    lines.push('', `Not checked: ${r.computed.length} import() with a computed specifier (${r.computed.map((c) => `${c.file}:${c.line}`).join(', ')})`);
  }
  return lines;
};
