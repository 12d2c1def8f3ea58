/**
 * The import picture of src/: circles (import cycles) and back arrows (imports against the layer
 * order). Needs nothing but Bun: `npx bun scripts/import-picture.ts` (or `npm run imports`);
 * `--check` exits 1 when a circle has an edge that is not type-only, the root agent's closure leaves
 * its folders or an exported value is used nowhere.
 *
 * An edge is `runtime` when Bun keeps the import in the output (a static import or re-export with a
 * value binding: it runs the module at load), `lazy` for `import()` in code (runs on call), `type`
 * when it is erased (`import type`, `{ type X }`, `typeof import()`).
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

export type EdgeKind = "runtime" | "lazy" | "type";
export interface Edge {
  from: string;
  to: string;
  kind: EdgeKind;
}

/**
 * The layer order, lowest first: a file may import its own layer and those below it. Command
 * definitions (`*-command.ts`), the chunks that run one (`*-cli.ts`) and the entry files
 * are the CLI layer (the last) wherever they sit.
 */
export const LAYERS: readonly (readonly string[])[] = [
  ["core", "version.ts"],
  ["crypto"],
  ["agent"],
  ["chain", "network", "template", "provision", "vmauth", "guest", "wallet", "addressbook"],
  ["engine", "web", "setup"],
  ["dev", "doctor", "import", "main.ts", "entry.ts"],
];
const CLI_LAYER = LAYERS.length - 1;

/** The folders the root agent's import closure may reach (docs/architecture.md, the trust boundary). */
export const AGENT_FOLDERS = ["agent", "core", "crypto"] as const;
/** Where the root agent starts: its server and the command that runs it. */
export const AGENT_ROOTS = ["src/agent/server.ts", "src/agent/agent-command.ts"] as const;

const transpilers = { ts: new Bun.Transpiler({ loader: "ts" }), tsx: new Bun.Transpiler({ loader: "tsx" }) };
const STATIC_SPEC = /\b(?:import|export)\s[^;]*?\bfrom\s*["']([^"']+)["']|\bimport\s*\(\s*["']([^"']+)["']\s*\)/g;

/** Every .ts/.tsx file under `dir`, as paths relative to `root`. */
export function sourceFiles(root: string, dir = "src"): string[] {
  const out: string[] = [];
  if (!existsSync(join(root, dir))) return out;
  for (const entry of readdirSync(join(root, dir), { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...sourceFiles(root, path));
    else if (/\.tsx?$/.test(entry.name) && !entry.name.endsWith(".d.ts")) out.push(path);
  }
  return out.sort();
}

function resolveSpec(root: string, from: string, spec: string, known: Set<string>): string | undefined {
  if (!spec.startsWith(".")) return undefined;
  const base = relative(root, resolve(root, dirname(from), spec));
  for (const candidate of [base, `${base}.ts`, `${base}.tsx`, join(base, "index.ts")]) {
    if (known.has(candidate)) return candidate;
  }
  return undefined;
}

/** The import edges between the given files (only edges to files in the set). */
export function importEdges(root: string, files: string[]): Edge[] {
  const known = new Set(files);
  const edges: Edge[] = [];
  for (const from of files) {
    const code = readFileSync(join(root, from), "utf8");
    const kinds = new Map<string, EdgeKind>();
    for (const imp of transpilers[from.endsWith(".tsx") ? "tsx" : "ts"].scanImports(code.replace(/^#!.*/, ""))) {
      const to = resolveSpec(root, from, imp.path, known);
      if (!to) continue;
      const kind: EdgeKind = imp.kind === "dynamic-import" ? "lazy" : "runtime";
      if (kinds.get(to) !== "runtime") kinds.set(to, kind);
    }
    // What the transpiler dropped is erased at build time: a type-only edge.
    const withoutComments = code.replace(/^\s*(\/\/|\/\*|\*).*$/gm, "");
    for (const match of withoutComments.matchAll(STATIC_SPEC)) {
      const to = resolveSpec(root, from, (match[1] ?? match[2]) as string, known);
      if (to && !kinds.has(to)) kinds.set(to, "type");
    }
    for (const [to, kind] of kinds) edges.push({ from, to, kind });
  }
  return edges;
}

/** The top folder under src/ (or the file name for files directly in src/). */
export function area(file: string): string {
  return file.split("/")[1] as string;
}

/** A file's layer index in LAYERS. */
export function layerOf(file: string): number {
  const name = file.split("/").pop() as string;
  if (/-command\.ts$|-cli\.ts$/.test(name)) return CLI_LAYER;
  const a = area(file);
  const index = LAYERS.findIndex((names) => names.includes(a));
  if (index < 0) throw new Error(`${file}: folder ${a} has no layer in scripts/import-picture.ts LAYERS`);
  return index;
}

/** Strongly connected components with more than one file, or a file importing itself. */
function components(files: string[], edges: Edge[]): string[][] {
  const next = new Map<string, string[]>();
  for (const f of files) next.set(f, []);
  for (const e of edges) next.get(e.from)?.push(e.to);
  let index = 0;
  const indexOf = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const out: string[][] = [];
  const visit = (v: string): void => {
    indexOf.set(v, index);
    low.set(v, index++);
    stack.push(v);
    onStack.add(v);
    for (const w of next.get(v) ?? []) {
      if (!indexOf.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v) as number, low.get(w) as number));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v) as number, indexOf.get(w) as number));
    }
    if (low.get(v) === indexOf.get(v)) {
      const scc: string[] = [];
      let w: string;
      do {
        w = stack.pop() as string;
        onStack.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1 || edges.some((e) => e.from === v && e.to === v)) out.push(scc.sort());
    }
  };
  for (const f of files) if (!indexOf.has(f)) visit(f);
  return out;
}

export interface Circle {
  /** The strongest edge on the circle: `runtime` > `lazy` > `type`. */
  kind: EdgeKind;
  files: string[];
  edges: Edge[];
}

/**
 * Every import circle, with the strongest kind of edge on it: `runtime` when one of its imports runs
 * at load (the circle is then real in the binary), `lazy` when its strongest is an `import()`,
 * `type` when every edge is erased at build time (harmless).
 */
export function circles(files: string[], edges: Edge[]): Circle[] {
  return components(files, edges).map((files) => {
    const inside = new Set(files);
    const own = edges.filter((e) => inside.has(e.from) && inside.has(e.to));
    const kind: EdgeKind = own.some((e) => e.kind === "runtime")
      ? "runtime"
      : own.some((e) => e.kind === "lazy")
        ? "lazy"
        : "type";
    return { kind, files, edges: own };
  });
}

/** Imports from a lower layer to a higher one. */
export function backArrows(edges: Edge[]): Edge[] {
  return edges.filter((e) => layerOf(e.from) < layerOf(e.to));
}

/** Files the root agent loads (runtime and lazy edges from AGENT_ROOTS) that sit outside AGENT_FOLDERS. */
export function agentEscapes(edges: Edge[]): { file: string; via: string }[] {
  const seen = new Map<string, string>();
  const queue: string[] = [...AGENT_ROOTS];
  for (const root of AGENT_ROOTS) seen.set(root, "");
  while (queue.length > 0) {
    const file = queue.shift() as string;
    for (const e of edges) {
      if (e.from !== file || e.kind === "type" || seen.has(e.to)) continue;
      seen.set(e.to, file);
      queue.push(e.to);
    }
  }
  return [...seen]
    .filter(([file]) => !(AGENT_FOLDERS as readonly string[]).includes(area(file)))
    .map(([file, via]) => ({ file, via }));
}

/**
 * Exported values (functions, constants, classes) that no other file under src/, test/, scripts/ or
 * build.ts names and their own file does not use: dead code. A file imported as a namespace
 * (`import * as`) is skipped: its exports are used through the namespace object.
 */
export function deadExports(root: string): { file: string; name: string }[] {
  // Generated bundles are megabytes of browser code that name none of our exports.
  const all = [...sourceFiles(root, "src"), ...sourceFiles(root, "test"), ...sourceFiles(root, "scripts")].filter(
    (f) => !f.includes("/client/generated/"),
  );
  if (existsSync(join(root, "build.ts"))) all.push("build.ts");
  const known = new Set(all);
  const filesNaming = new Map<string, Set<string>>();
  const namespaced = new Set<string>();
  const text = new Map<string, string>();
  for (const file of all) {
    const code = readFileSync(join(root, file), "utf8");
    text.set(file, code);
    for (const word of new Set(code.match(/[\w$]+/g) ?? [])) {
      const set = filesNaming.get(word) ?? new Set<string>();
      set.add(file);
      filesNaming.set(word, set);
    }
    for (const m of code.matchAll(/import\s+\*\s+as\s+\w+\s+from\s*["']([^"']+)["']/g)) {
      const to = resolveSpec(root, file, m[1] as string, known);
      if (to) namespaced.add(to);
    }
  }
  const dead: { file: string; name: string }[] = [];
  for (const file of all) {
    if (!file.startsWith("src/") || namespaced.has(file)) continue;
    const code = text.get(file) as string;
    for (const m of code.matchAll(
      /^export\s+(?:async\s+)?(?:const|let|function\*?|class|enum)\s+([A-Za-z_$][\w$]*)/gm,
    )) {
      const name = m[1] as string;
      if ((filesNaming.get(name)?.size ?? 0) > 1) continue;
      const uses = code.match(/[\w$]+/g)?.filter((w) => w === name).length ?? 0;
      if (uses <= 1) dead.push({ file, name });
    }
  }
  return dead;
}

/** The whole picture of a checkout. */
export function picture(root: string) {
  const files = sourceFiles(root);
  const edges = importEdges(root, files);
  return {
    files,
    edges,
    circles: circles(files, edges),
    backArrows: backArrows(edges),
    agentEscapes: agentEscapes(edges),
  };
}

const ARROW: Record<EdgeKind, string> = { runtime: "->", lazy: "~>", type: "=>" };
const strip = (f: string): string => f.replace(/^src\//, "");

if (import.meta.main) {
  const root = resolve(import.meta.dir, "..");
  const p = picture(root);
  const count = (k: EdgeKind): number => p.edges.filter((e) => e.kind === k).length;
  console.log(
    `${p.files.length} files, ${p.edges.length} imports (${count("runtime")} runtime ->, ${count("lazy")} lazy ~>, ${count("type")} type-only =>)`,
  );
  console.log(`layers, low to high: ${LAYERS.map((l) => l.join(" ")).join(" < ")} (command files are cli)`);
  console.log(
    `\ncircles: ${p.circles.length} (${p.circles.filter((c) => c.kind !== "type").length} with a runtime or lazy edge, the rest type-only)`,
  );
  for (const c of p.circles) {
    console.log(`  [${c.kind}] ${c.files.map(strip).join(", ")}`);
    for (const e of c.edges) console.log(`      ${strip(e.from)} ${ARROW[e.kind]} ${strip(e.to)}`);
  }
  console.log(`\nback arrows (a lower layer importing a higher one): ${p.backArrows.length}`);
  for (const e of p.backArrows) console.log(`  ${strip(e.from)} ${ARROW[e.kind]} ${strip(e.to)}`);
  console.log(`\nroot agent closure outside ${AGENT_FOLDERS.join("/, ")}/: ${p.agentEscapes.length}`);
  for (const { file, via } of p.agentEscapes) console.log(`  ${strip(file)} (from ${strip(via)})`);
  const dead = deadExports(root);
  console.log(`\nexported values nothing uses: ${dead.length}`);
  for (const { file, name } of dead) console.log(`  ${strip(file)} ${name}`);
  const failed = dead.length > 0 || p.circles.some((c) => c.kind !== "type") || p.agentEscapes.length > 0;
  if (process.argv.includes("--check") && failed) process.exitCode = 1;
}
