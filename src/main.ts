#!/usr/bin/env bun
/** The blockhost executable's entry point. */
import { defineCommand } from "citty";
import { runCli } from "./core/cli.ts";
import { help, version } from "./core/help-command.ts";
import { VERSION } from "./version.ts";

/** The citty root: one lazy import per subcommand, nothing else. */
export const main = defineCommand({
  meta: {
    name: "blockhost",
    version: VERSION,
    description:
      "BlockHost sells virtual machines to crypto wallets: customers pay a subscription on chain, get a VM at once and log in over SSH by signing with their wallet",
    examples: ["blockhost status", "blockhost help vm create"],
  },
  subCommands: {
    agent: () => import("./agent/agent-command.ts").then((m) => m.default),
    pam: () => import("./vmauth/pam-command.ts").then((m) => m.default),
    guest: () => import("./guest/guest-command.ts").then((m) => m.default),
    "signing-page": () => import("./vmauth/signing-page/signing-page-command.ts").then((m) => m.default),
    vm: () => import("./provision/vm-command.ts").then((m) => m.default),
    gc: () => import("./provision/gc-command.ts").then((m) => m.default),
    proxmox: () => import("./provision/proxmox-command.ts").then((m) => m.default),
    engine: () => import("./engine/engine-command.ts").then((m) => m.default),
    status: () => import("./engine/status-command.ts").then((m) => m.default),
    subscriptions: () => import("./engine/subscriptions-command.ts").then((m) => m.default),
    doctor: () => import("./doctor/doctor-command.ts").then((m) => m.default),
    crypto: () => import("./crypto/crypto-command.ts").then((m) => m.default),
    addressbook: () => import("./addressbook/addressbook-command.ts").then((m) => m.default),
    contracts: () => import("./chain/contracts-command.ts").then((m) => m.default),
    mint: () => import("./chain/mint-command.ts").then((m) => m.default),
    is: () => import("./chain/is-command.ts").then((m) => m.default),
    wallet: () => import("./wallet/wallet-command.ts").then((m) => m.default),
    funds: () => import("./engine/funds/funds-command.ts").then((m) => m.default),
    admin: () => import("./engine/admin-commands/admin-command.ts").then((m) => m.default),
    finalize: () => import("./setup/finalize-command.ts").then((m) => m.default),
    wizard: () => import("./web/wizard/wizard-command.ts").then((m) => m.default),
    dev: () => import("./dev/dev-command.ts").then((m) => m.default),
    completion: () => import("./core/completion-command.ts").then((m) => m.default),
    import: () => import("./import/import-command.ts").then((m) => m.default),
    serve: () => import("./web/public/serve-command.ts").then((m) => m.default),
    template: () => import("./template/template-command.ts").then((m) => m.default),
    broker: () => import("./network/broker/broker-command.ts").then((m) => m.default),
    help,
    version,
  },
});

/** Run a command line against the whole tree (src/entry.ts calls this for every command without a chunk). */
export const run = (argv: string[]): Promise<number> => runCli(main, argv);

// Imported (by the man page and completion generator) it only defines the tree.
if (import.meta.main) process.exitCode = await runCli(main);
