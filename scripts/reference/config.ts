/** docs/reference/config.md from the config schemas (src/core/config, the setup file, the in-VM PAM config). */
import { paths } from "../../src/core/paths.ts";
import { addressbookSchema } from "../../src/core/config/addressbook.ts";
import { adminCommandsSchema } from "../../src/core/config/admin-commands.ts";
import { fundManagerSchema, revenueShareSchema } from "../../src/core/config/fund-manager.ts";
import {
  blockhostConfigSchema,
  dbConfigSchema,
  httpsConfigSchema,
  web3ConfigSchema,
} from "../../src/core/config/schemas.ts";
import type { Schema } from "../../src/core/schema.ts";
import { setupFileSchema } from "../../src/setup/schema.ts";
import { pamConfigSchema } from "../../src/vmauth/config.ts";
import { keyTable, slug } from "./markdown.ts";

interface FileDoc {
  title: string;
  path: string;
  format: string;
  about: string;
  schema: Schema<unknown>;
  prefix?: string;
}

function files(): FileDoc[] {
  return [
    {
      title: "blockhost.yaml",
      path: paths.blockhostConfig,
      format: "YAML",
      about: "Identity, hypervisor backend, admin wallet, engine tuning, plan sizes and the web front's look.",
      schema: blockhostConfigSchema,
    },
    {
      title: "blockhost.yaml `fund_manager:`",
      path: paths.blockhostConfig,
      format: "YAML",
      about: "The fund manager's section (withdrawals, gas top-ups, revenue share); every key has a default.",
      schema: fundManagerSchema,
      prefix: "fund_manager",
    },
    {
      title: "db.yaml",
      path: paths.dbConfig,
      format: "YAML",
      about: "Allocation pools (VMIDs, IPv4, IPv6) and lifecycle timing.",
      schema: dbConfigSchema,
    },
    {
      title: "web3-defaults.yaml",
      path: paths.web3Config,
      format: "YAML",
      about: "Chain access (chain id, RPC URLs, contract addresses) and in-VM login defaults.",
      schema: web3ConfigSchema,
    },
    {
      title: "https.json",
      path: paths.httpsConfig,
      format: "JSON",
      about: "The certificate `blockhost serve` uses; with `acme`, serve orders and renews it itself.",
      schema: httpsConfigSchema,
    },
    {
      title: "addressbook.json",
      path: paths.addressbook,
      format: "JSON",
      about: "Named wallets (`blockhost addressbook`); written only through the agent.",
      schema: addressbookSchema,
      prefix: "<name>",
    },
    {
      title: "admin-commands.json",
      path: paths.config("admin-commands.json"),
      format: "JSON",
      about: "The secret on-chain admin command names and what each does (port knocking). Missing = off.",
      schema: adminCommandsSchema,
    },
    {
      title: "revenue-share.json",
      path: paths.config("revenue-share.json"),
      format: "JSON",
      about: "The share of revenue the fund manager pays to addressbook roles. Missing = no revenue share.",
      schema: revenueShareSchema,
    },
    {
      title: "The setup file (`blockhost finalize --config FILE`)",
      path: "any path, mode 0600",
      format: "YAML",
      about: "Everything the setup wizard asks, for a headless setup; the wizard writes the same file.",
      schema: setupFileSchema,
    },
    {
      title: "config.toml (inside a customer VM)",
      path: paths.pamConfig,
      format: "TOML",
      about: "The in-VM wallet login (`blockhost pam`, `blockhost signing-page`); written by cloud-init.",
      schema: pamConfigSchema,
    },
  ];
}

export function configPage(): string {
  const all = files();
  const out = [
    "# Configuration files",
    "",
    "Every file is validated against its schema when it is read: an unknown key, a missing required key or a value",
    "out of range stops the command with `E_CONFIG_INVALID` (exit 78), naming the file and the key. Keys nest as",
    "`a.b`; `a[]` is each item of a list; `<key>` stands for a name you choose. A required key must be present",
    "whenever its parent section is.",
    "",
    ...all.map((f) => `- [${f.title}](#${slug(f.title)})`),
    "",
  ];
  for (const f of all) {
    out.push(
      `## ${f.title}`,
      "",
      `${f.about}`,
      "",
      `Path: \`${f.path}\` (${f.format}).`,
      "",
      keyTable(f.schema, f.prefix),
    );
  }
  return out.join("\n");
}
