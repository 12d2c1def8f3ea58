// `blockhost admin send COMMAND`: build, encrypt and send an admin command from the admin's key file.
import { existsSync, readFileSync } from "node:fs";
import { defineCommand } from "citty";
import { getAddress, type Hex } from "viem";
import { walletClientFor } from "../../chain/client.ts";
import { loadChainContext } from "../../chain/context.ts";
import { onChain } from "../../chain/errors.ts";
import { loadKeyFile } from "../../crypto/keyfile.ts";
import { waitForSuccess } from "../../chain/tx.ts";
import { adminCommandName } from "../../core/config/admin-commands.ts";
import { loadBlockhostConfig } from "../../core/config/index.ts";
import { BlockhostError } from "../../core/errors.ts";
import { paths } from "../../core/paths.ts";
import { addressArg } from "../../core/address.ts";
import { EVM_ADDRESS_RE } from "../../core/validators.ts";
import { addressOfPublicKey, parsePublicKey } from "../../crypto/keys.ts";
import { buildAdminCommand, encryptAdminCommand } from "./payload.ts";
import { DEAD_ADDRESS } from "./settings.ts";

/** The server's public key: --server-public-key, web3-defaults.yaml, blockhost.yaml, then server.pubkey. */
function serverPublicKey(
  arg: string | undefined,
  web3: { blockchain: { server_public_key?: string }; server?: { public_key: string } },
): Uint8Array {
  if (arg) return parsePublicKey(arg, "--server-public-key");
  const fromConfig =
    web3.blockchain.server_public_key ??
    web3.server?.public_key ??
    (existsSync(paths.blockhostConfig) ? loadBlockhostConfig().server_public_key : undefined);
  if (fromConfig) return parsePublicKey(fromConfig, "server_public_key");
  if (existsSync(paths.serverPubkey))
    return parsePublicKey(readFileSync(paths.serverPubkey, "utf8").trim(), paths.serverPubkey);
  throw new BlockhostError(
    "E_CONFIG_MISSING",
    `no server public key: pass --server-public-key or set blockchain.server_public_key in ${paths.web3Config}`,
  );
}

/** Where the transaction goes: --to (self, server, null or 0x…), else blockhost.yaml's destination_mode, else self. */
function destination(to: string | undefined, admin: Hex, serverKey: Uint8Array): Hex {
  const blockhostAdmin = !to && existsSync(paths.blockhostConfig) ? loadBlockhostConfig().admin : undefined;
  const mode = to ?? blockhostAdmin?.destination_mode ?? "self";
  if (mode === "self" || mode === "any") return admin;
  if (mode === "server") return addressOfPublicKey(serverKey);
  if (mode === "null") return getAddress(blockhostAdmin?.destination_address ?? DEAD_ADDRESS);
  if (EVM_ADDRESS_RE.test(mode)) return addressArg(mode, "--to");
  throw new BlockhostError("E_USAGE", `--to: expected self, server, null or a 0x address, got "${mode.slice(0, 50)}"`);
}

function parseParams(text: string | undefined): Record<string, unknown> {
  if (text === undefined) return {};
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw new BlockhostError("E_USAGE", "--params: not valid JSON");
  }
  if (typeof v !== "object" || v === null || Array.isArray(v))
    throw new BlockhostError("E_USAGE", '--params: expected a JSON object like {"duration":600}');
  return v as Record<string, unknown>;
}

const send = defineCommand({
  meta: {
    name: "send",
    description:
      "Send the host a command over the chain from the admin wallet, encrypted so only the host reads it; prints the transaction hash",
    examples: [
      "blockhost admin send knock --key-file /root/admin.key",
      `blockhost admin send knock --key-file /root/admin.key --params '{"ports":[22],"duration":600}'`,
    ],
  },
  args: {
    command: {
      type: "positional",
      required: true,
      valueHint: "COMMAND",
      description: "Name of the command, as admin-commands.json lists it",
    },
    params: {
      type: "string",
      valueHint: "JSON",
      description: 'The command\'s parameters as a JSON object, e.g. {"ports":[22],"duration":600}',
    },
    "key-file": {
      type: "string",
      valueHint: "FILE",
      description: "File holding the admin wallet's private key (hex, mode 0600)",
      required: true,
    },
    "server-public-key": {
      type: "string",
      valueHint: "HEX",
      description: "The host's public key (0x04…), when this machine has no copy of the host's config",
    },
    to: {
      type: "string",
      valueHint: "TO",
      description: "Send the transaction to: self, server, null or a 0x address (default: destination_mode, else self)",
    },
  },
  async run({ args }) {
    if (!/^[A-Za-z0-9_.-]{1,64}$/.test(args.command))
      throw new BlockhostError("E_USAGE", `COMMAND: expected ${adminCommandName.describe}`);
    const payload = buildAdminCommand({ command: args.command, params: parseParams(args.params) });
    // Every argument is checked before any file is read.
    if (args.to !== undefined && !["self", "server", "null"].includes(args.to)) addressArg(args.to, "--to");
    const account = loadKeyFile(args["key-file"], "admin key file");
    const { web3, access } = loadChainContext();
    const pub = serverPublicKey(args["server-public-key"], web3);
    const to = destination(args.to, account.address, pub);
    const data = encryptAdminCommand(pub, payload);
    const wallet = walletClientFor(access, account);
    const hash = await onChain("send the admin command", () =>
      wallet.sendTransaction({ account, chain: access.chain, to, value: 0n, data }),
    );
    await waitForSuccess(access, hash, "admin command");
    process.stdout.write(`${hash}\n`);
  },
});

export default defineCommand({
  meta: {
    name: "admin",
    description: "Commands the admin sends the host over the chain, such as opening the SSH port for a while",
    examples: ["blockhost admin send knock --key-file /root/admin.key"],
  },
  subCommands: { send },
});
