/** The layers hold: the root agent's closure, no import circle that runs code, no import against the layer order. */
import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { deadExports, picture } from "../../../scripts/import-picture.ts";

const repo = resolve(import.meta.dir, "../../..");
const here = picture(repo);
const show = (edges: { from: string; to: string; kind: string }[]) => edges.map((e) => `${e.from} ${e.kind} ${e.to}`);

describe("the source tree", () => {
  test("the root agent loads only files in src/agent, src/core and src/crypto", () => {
    expect(here.agentEscapes).toEqual([]);
  });

  test("no import circle has a runtime or lazy edge (type-only circles are erased at build)", () => {
    expect(here.circles.filter((c) => c.kind !== "type").map((c) => show(c.edges))).toEqual([]);
  });

  test("no import goes against the layer order (scripts/import-picture.ts LAYERS)", () => {
    expect(show(here.backArrows)).toEqual([]);
  });

  test("every exported value is used somewhere", () => {
    expect(deadExports(repo)).toEqual([]);
  });
});

// The checks above pass on a clean tree; these show they fail on a broken one.
describe("the picture of a broken tree", () => {
  const root = mkdtempSync(join(tmpdir(), "bh-layers-"));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  const write = (path: string, code: string) => {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), code);
  };
  write("src/agent/server.ts", 'import { step } from "../engine/jobs.ts";\nexport const s = step;\n');
  write("src/agent/agent-command.ts", 'export default () => import("./server.ts");\n');
  write("src/engine/jobs.ts", 'import { nonce } from "./nonces.ts";\nexport const step = nonce;\n');
  write(
    "src/engine/nonces.ts",
    'import { step } from "./jobs.ts";\nexport const nonce = 1; export const again = () => step;\n',
  );
  write("src/core/log.ts", 'import type { Step } from "../engine/types.ts";\nexport type L = Step;\n');
  write("src/engine/types.ts", 'import type { L } from "../core/log.ts";\nexport type Step = L | number;\n');
  write("src/core/state/vms.ts", "export function mintedTokenIds() {}\nexport const used = 1;\n");
  write("src/engine/status.ts", 'import { used } from "../core/state/vms.ts";\nexport const s = used;\n');
  const broken = picture(root);

  test("an agent import of engine/ escapes the agent's folders, with what led there", () => {
    expect(broken.agentEscapes).toEqual([
      { file: "src/engine/jobs.ts", via: "src/agent/server.ts" },
      { file: "src/engine/nonces.ts", via: "src/engine/jobs.ts" },
    ]);
  });

  test("a runtime circle is told from a type-only one", () => {
    expect(broken.circles.map((c) => [c.kind, c.files])).toEqual([
      ["runtime", ["src/engine/jobs.ts", "src/engine/nonces.ts"]],
      ["type", ["src/core/log.ts", "src/engine/types.ts"]],
    ]);
  });

  test("an export nothing names is dead; one a test names is not", () => {
    expect(deadExports(root)).toEqual([{ file: "src/core/state/vms.ts", name: "mintedTokenIds" }]);
  });

  test("agent → engine and core → engine are back arrows, the type-only one included", () => {
    expect(show(broken.backArrows)).toEqual([
      "src/agent/server.ts runtime src/engine/jobs.ts",
      "src/core/log.ts type src/engine/types.ts",
    ]);
  });
});
