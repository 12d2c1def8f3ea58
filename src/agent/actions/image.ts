/** Agent actions: template image customisation (virt-customize). */
import { join } from "node:path";
import { paths } from "../../core/paths.ts";
import { schemaError, array, object, type Schema } from "../../core/schema.ts";
import { confinementProblem, withStagedFile } from "../../core/fs.ts";
import { confinedFile, imageBases, printableArg } from "./params.ts";
import { defineAction } from "./types.ts";

/** Template image customisation. */

/** The original's VIRT_CUSTOMIZE_ALLOWED_OPS; each takes exactly one argument. */
export const VIRT_CUSTOMIZE_OPS = [
  "--install",
  "--run-command",
  "--copy-in",
  "--upload",
  "--chmod",
  "--mkdir",
  "--write",
  "--append-line",
  "--firstboot-command",
  "--run",
  "--delete",
] as const;

/** Ops whose argument starts with a HOST path (read as root): that path is confined like the image. */
const HOST_PATH_OPS: Record<string, (arg: string) => string> = {
  "--copy-in": (a) => a.split(":")[0]!,
  "--upload": (a) => a.split(":")[0]!,
  "--run": (a) => a,
};
const hostFileBases = () => [...imageBases(), join(paths.root, "usr/share/blockhost")];

const COMMAND = `[op, argument] with op one of ${VIRT_CUSTOMIZE_OPS.join(" ")}`;
const customizeCommand: Schema<[string, string]> = {
  describe: COMMAND,
  parse(v, path = "") {
    if (!Array.isArray(v) || v.length !== 2) throw schemaError(path, COMMAND);
    const [op, arg] = v as unknown[];
    if (typeof op !== "string" || !(VIRT_CUSTOMIZE_OPS as readonly string[]).includes(op))
      throw schemaError(`${path}[0]`, `one of ${VIRT_CUSTOMIZE_OPS.join(" ")}`);
    const a = printableArg.parse(arg, `${path}[1]`);
    const hostPath = HOST_PATH_OPS[op]?.(a);
    if (hostPath !== undefined) {
      const problem = confinementProblem(hostPath, hostFileBases());
      if (problem) throw schemaError(`${path}[1]`, `a host file under ${hostFileBases().join(" or ")} (${problem})`);
    }
    return [op, a];
  },
};

/** `virt-customize -a IMAGE op arg …` on an image under <root>/var/lib/blockhost or <root>/tmp. */
export const virtCustomize = defineAction({
  name: "virt-customize",
  params: object({ image_path: confinedFile(imageBases), commands: array(customizeCommand, 1, 200) }),
  timeoutMs: 600_000,
  handler: async (p, ctx) => {
    return withStagedFile(p.image_path, imageBases(), async (image) => {
      const { stdout } = await ctx.run("virt-customize", ["-a", image, ...p.commands.flat()]);
      return { output: stdout.trim() };
    });
  },
});
