/** Agent actions: setup-phase writes of the files under /etc/blockhost. */
import { BlockhostError } from "../../core/errors.ts";
import { blockhostConfigSchema, dbConfigSchema, parseConfigText, web3ConfigSchema } from "../../core/config/index.ts";
import { addressbookSchema } from "../../core/config/addressbook.ts";
import { paths } from "../../core/paths.ts";
import { schemaError, literal, object, str } from "../../core/schema.ts";
import { HEX_KEY_RE } from "../../core/validators.ts";
import { ensureDirUnder, writeFileAtomic } from "../../core/fs.ts";
import { setupIsComplete } from "../setup-state.ts";
import { defineAction } from "./types.ts";

/**
 * Setup-phase writes into /etc/blockhost. Only these files, each with its fixed mode and a
 * content check; agent.yaml is deliberately absent (it decides what runs as root).
 */
const KEY = 0o640;
const PUBLIC = 0o644;
const isJson = (text: string) => {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
};
const isValid =
  (schema: Parameters<typeof parseConfigText>[2], format: "yaml" | "json" = "yaml") =>
  (text: string, file: string) => {
    parseConfigText(file, text, schema, format);
    return true;
  };

export const CONFIG_FILES: Readonly<
  Record<string, { mode: number; check: (content: string, file: string) => boolean; expected: string }>
> = {
  "db.yaml": { mode: PUBLIC, check: isValid(dbConfigSchema), expected: "a valid db.yaml" },
  "web3-defaults.yaml": { mode: PUBLIC, check: isValid(web3ConfigSchema), expected: "a valid web3-defaults.yaml" },
  "blockhost.yaml": { mode: PUBLIC, check: isValid(blockhostConfigSchema), expected: "a valid blockhost.yaml" },
  "server.key": { mode: KEY, check: (t) => HEX_KEY_RE.test(t.trim()), expected: "a 32-byte hex private key" },
  "deployer.key": { mode: KEY, check: (t) => HEX_KEY_RE.test(t.trim()), expected: "a 32-byte hex private key" },
  "admin-signature.key": { mode: KEY, check: (t) => /^(0x)?[0-9a-fA-F]{1,256}$/.test(t.trim()), expected: "hex text" },
  "server.pubkey": {
    mode: PUBLIC,
    check: (t) => /^(0x)?04[0-9a-fA-F]{128}$/.test(t.trim()),
    expected: "an uncompressed public key (0x04… hex)",
  },
  "admin-commands.json": { mode: KEY, check: isJson, expected: "JSON" }, // command names are secrets
  "broker-allocation.json": { mode: PUBLIC, check: isJson, expected: "JSON" },
  "addressbook.json": { mode: KEY, check: isValid(addressbookSchema, "json"), expected: "a valid addressbook" },
  "revenue-share.json": { mode: PUBLIC, check: isJson, expected: "JSON" },
  "https.json": { mode: PUBLIC, check: isJson, expected: "JSON" },
  "admin.json": { mode: PUBLIC, check: isJson, expected: "JSON" },
  "network-mode": { mode: PUBLIC, check: (t) => /^[a-z0-9-]{1,32}$/.test(t.trim()), expected: "a mode name" },
};

const configWriteShape = object({
  file: literal(...Object.keys(CONFIG_FILES)),
  content: str(/^[^\0]*$/, "text of at most 1 MiB", 1024 * 1024),
});

/** Write one allowlisted file in the config dir (atomic, root:blockhost, its fixed mode). */
export const configWrite = defineAction({
  name: "config-write",
  params: {
    describe: "{file, content} with content valid for that file",
    parse(v, path = "") {
      const p = configWriteShape.parse(v, path);
      const spec = CONFIG_FILES[p.file]!;
      let detail = "";
      try {
        if (spec.check(p.content, p.file)) return p;
      } catch (e) {
        detail = ` (${(e as Error).message})`;
      }
      throw schemaError(path ? `${path}.content` : "content", spec.expected + detail);
    },
  },
  timeoutMs: 30_000,
  setupOnly: true,
  handler: async (p) => {
    // The server refuses setupOnly actions after setup; checked here too so no other caller can skip it.
    if (setupIsComplete())
      throw new BlockhostError(
        "E_SETUP_COMPLETE",
        "setup is complete: configuration files can no longer be written through the agent",
      );
    ensureDirUnder(paths.root, paths.configDir);
    const file = paths.config(p.file);
    const mode = CONFIG_FILES[p.file]!.mode;
    writeFileAtomic(file, p.content, { mode, blockhostGroup: true });
    return { file, mode: mode.toString(8) };
  },
});
