/** `blockhost import`: migrate a host running the original BlockHost (its /etc/blockhost files and vms.json). */
import { defineCommand } from "citty";
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import type { ActionParams } from "../agent/actions/index.ts";
import { AgentClient } from "../agent/client.ts";
import { loadDbConfig } from "../core/config/index.ts";
import { BlockhostError } from "../core/errors.ts";
import { paths } from "../core/paths.ts";
import { readRegularFile } from "../core/regular-file.ts";
import { openDatabase } from "../core/state/db.ts";
import { importVms } from "../provision/legacy-json.ts";
import { applyReservedTokens, checkLegacyConfigs, LEGACY_CONFIGS, LEGACY_FILES } from "./legacy.ts";

const say = (line: string) => process.stdout.write(`${line}\n`);

/** A file to copy, refused unless it is a regular file (a FIFO would hang the import). */
function readConfigCopy(file: string): string {
  try {
    return readRegularFile(file);
  } catch (e) {
    throw new BlockhostError(
      "E_CONFIG_INVALID",
      `${file}: ${(e as NodeJS.ErrnoException).code === "ENOTREG" ? "not a regular file" : `cannot read (${(e as NodeJS.ErrnoException).code})`}`,
    );
  }
}

/** Copy the original's files from another directory into ours through the agent (setup phase only). */
async function copyConfigs(from: string): Promise<void> {
  const agent = new AgentClient();
  for (const name of [...LEGACY_CONFIGS.map(([n]) => n), ...LEGACY_FILES]) {
    const file = join(from, name);
    if (!existsSync(file)) continue;
    await agent.call("config-write", {
      file: name as ActionParams<"config-write">["file"],
      content: readConfigCopy(file),
    });
    say(`copied ${file} → ${paths.config(name)}`);
  }
}

function legacyVmsFile(): string | undefined {
  return ["vms.json", "vm-db.json"].map((n) => paths.state(n)).find((f) => existsSync(f));
}

export default defineCommand({
  meta: {
    name: "import",
    description:
      "Take over a host set up by the earlier, Python BlockHost: check its /etc/blockhost files, import its VM list",
    examples: ["blockhost import", "blockhost import --from /root/old-etc-blockhost --vms /root/vms.json"],
  },
  args: {
    from: {
      type: "string",
      description: "Its configuration directory (default: /etc/blockhost, read where it is)",
      valueHint: "DIR",
    },
    vms: {
      type: "string",
      description: "Its VM list (default: /var/lib/blockhost/vms.json or vm-db.json)",
      valueHint: "FILE",
    },
  },
  async run({ args }) {
    const from = args.from === undefined ? paths.configDir : resolve(args.from);
    const checks = checkLegacyConfigs(from);
    for (const c of checks) say(c.ok ? `ok       ${c.file}` : `invalid  ${c.file}: ${c.error}`);
    const bad = checks.filter((c) => !c.ok);
    if (bad.length > 0) {
      throw new BlockhostError(
        "E_CONFIG_INVALID",
        `${bad.length} config file(s) need fixing before import: ${bad.map((c) => c.file).join(", ")}`,
      );
    }
    if (from !== paths.configDir) await copyConfigs(from);

    const vmsFile = args.vms ?? legacyVmsFile();
    if (vmsFile === undefined) return say("no vms.json or vm-db.json found: no VMs to import");
    let data: unknown;
    try {
      data = JSON.parse(readFileSync(vmsFile, "utf8"));
    } catch (e) {
      throw new BlockhostError("E_INVALID_INPUT", `${vmsFile}: not readable JSON (${(e as Error).message})`);
    }
    const tokens = applyReservedTokens(data, vmsFile);
    const result = importVms(
      { db: openDatabase(), dbConfig: loadDbConfig(join(from, "db.yaml")) },
      tokens.data,
      vmsFile,
    );
    say(
      `imported ${result.imported.length} VM(s) from ${vmsFile}${result.skipped.length ? `; already present: ${result.skipped.join(", ")}` : ""}`,
    );
    if (tokens.linked.length > 0) say(`linked NFTs from reserved_nft_tokens: ${tokens.linked.join(", ")}`);
    if (tokens.unminted.length > 0)
      say(`reservations never minted (not linked; the reconciler checks the chain): ${tokens.unminted.join(", ")}`);
  },
});
