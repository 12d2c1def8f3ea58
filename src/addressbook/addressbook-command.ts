/** `blockhost addressbook`: list and edit named wallets (the original `ab`). */
import { readFileSync } from "node:fs";
import { defineCommand } from "citty";
import { AgentClient } from "../agent/client.ts";
import { keyfilePath, loadAddressbook, type Addressbook } from "../core/config/addressbook.ts";
import { BlockhostError } from "../core/errors.ts";
import { variadic } from "../core/cli.ts";
import { paths } from "../core/paths.ts";
import { object } from "../core/schema.ts";
import { evmAddress } from "../core/validators.ts";
import { addressOfPrivateKey, parsePrivateKey } from "../crypto/keys.ts";
import { addEntry, deleteEntry, initBook, newWalletName, updateEntry } from "./edit.ts";

/**
 * `blockhost addressbook …`: the original `ab`. Reads addressbook.json directly; every write goes
 * through the root agent, since /etc/blockhost is root's: one entry per request (`addressbook-add`,
 * `-update`, `-remove`, `generate-wallet`), so a concurrent writer such as the fund manager loses
 * nothing; only `init` (an empty book) saves the whole book.
 */

const save = (book: Addressbook) => new AgentClient().call("addressbook-save", { entries: book });
const generatedWallet = object({ address: evmAddress, keyfile: keyfilePath }, { extra: "ignore" });
const say = (line: string) => process.stdout.write(`${line}\n`);

const nameArg = {
  name: {
    type: "positional" as const,
    required: true as const,
    valueHint: "NAME",
    description: "Name of the entry (lower-case letters, digits and -)",
  },
};
const addressArg = {
  address: {
    type: "positional" as const,
    required: true as const,
    valueHint: "WALLET",
    description: "The wallet's 0x address",
  },
};

const add = defineCommand({
  meta: {
    name: "add",
    description: "Give a wallet address a name the wallet commands accept",
    examples: ["blockhost addressbook add alice 0x52908400098527886E0F7030069857D2E4169EE7"],
  },
  args: { ...nameArg, ...addressArg },
  async run({ args }) {
    const book = addEntry(loadAddressbook(), args.name, args.address);
    await new AgentClient().call("addressbook-add", { name: args.name, address: book[args.name]!.address });
    say(`added ${args.name} ${book[args.name]!.address}`);
  },
});

const del = defineCommand({
  meta: {
    name: "del",
    description: "Delete an entry (a key file it names stays on disk)",
    examples: ["blockhost addressbook del alice"],
  },
  args: nameArg,
  async run({ args }) {
    const before = loadAddressbook();
    deleteEntry(before, args.name);
    await new AgentClient().call("addressbook-remove", { name: args.name });
    say(`deleted ${args.name}${before[args.name]?.keyfile ? ` (key file ${before[args.name]!.keyfile} kept)` : ""}`);
  },
});

const up = defineCommand({
  meta: {
    name: "up",
    description: "Change the address of an entry (a key file it names stays on disk)",
    examples: ["blockhost addressbook up alice 0x52908400098527886E0F7030069857D2E4169EE7"],
  },
  args: { ...nameArg, ...addressArg },
  async run({ args }) {
    const book = updateEntry(loadAddressbook(), args.name, args.address);
    await new AgentClient().call("addressbook-update", { name: args.name, address: book[args.name]!.address });
    say(`updated ${args.name} ${book[args.name]!.address}`);
  },
});

const create = defineCommand({
  meta: {
    name: "new",
    description: "Create a new wallet with this name (its key goes to /etc/blockhost/NAME.key); prints its address",
    examples: ["blockhost addressbook new hot"],
  },
  args: nameArg,
  async run({ args }) {
    const name = newWalletName(args.name);
    if (Object.hasOwn(loadAddressbook(), name))
      throw new BlockhostError("E_CONFLICT", `"${name}" is already in the addressbook`);
    const { address, keyfile } = generatedWallet.parse(
      await new AgentClient().call("generate-wallet", { name }),
      "generate-wallet reply",
    );
    // The agent records the wallet itself; make sure, for agents that only write the key.
    if (loadAddressbook()[name]?.address !== address)
      await new AgentClient().call("addressbook-add", { name, address, keyfile });
    say(address);
  },
});

const list = defineCommand({
  meta: {
    name: "list",
    description: "Show every named wallet with its address and whether this host holds its key",
    examples: ["blockhost addressbook list", "blockhost addressbook list --json"],
  },
  args: { json: { type: "boolean", description: "Print JSON instead of text" } },
  run({ args }) {
    const book = loadAddressbook();
    if (args.json) return say(JSON.stringify(book, null, 2));
    const names = Object.keys(book).sort();
    if (names.length === 0) return say(`the addressbook is empty (${paths.addressbook})`);
    const width = Math.max(...names.map((n) => n.length));
    for (const n of names)
      say(`${n.padEnd(width)}  ${book[n]!.address}${book[n]!.keyfile ? `  ${book[n]!.keyfile}` : ""}`);
  },
});

/** Refuse a server key file that is readable and belongs to another address (a common set-up slip). */
function checkServerKey(keyfile: string, server: string): void {
  let text: string;
  try {
    text = readFileSync(keyfile, "utf8");
  } catch {
    return;
  }
  const actual = addressOfPrivateKey(parsePrivateKey(text, `key in ${keyfile}`));
  if (actual.toLowerCase() !== server.toLowerCase()) {
    throw new BlockhostError(
      "E_INVALID_INPUT",
      `${keyfile} holds the key of ${actual}, not of the server address ${server}`,
    );
  }
}

const init = variadic(
  defineCommand({
    meta: {
      name: "init",
      description: "Fill an empty addressbook with the admin, server and optional dev and broker wallets",
      usage: ["blockhost addressbook init <ADMIN> <SERVER> [<DEV>] [<BROKER>] <KEY_FILE>"],
      examples: ["blockhost addressbook init 0x5290…9EE7 0x8617…070D /etc/blockhost/server.key"],
    },
    args: {
      admin: { type: "positional", required: true, valueHint: "ADMIN", description: "The admin's wallet address" },
      server: {
        type: "positional",
        required: true,
        valueHint: "SERVER",
        description:
          "The server wallet's address; then the optional dev and broker addresses, then the server's KEY_FILE",
      },
    },
    async run({ args }) {
      const pos = args._.map(String);
      if (pos.length < 3 || pos.length > 5)
        throw new BlockhostError(
          "E_USAGE",
          "usage: blockhost addressbook init ADMIN SERVER [DEV] [BROKER] SERVER_KEYFILE",
        );
      const [admin, server] = pos as [string, string];
      const serverKeyfile = pos.at(-1)!;
      const [dev, broker] = pos.slice(2, -1);
      const book = initBook(loadAddressbook(), { admin, server, serverKeyfile, dev, broker });
      checkServerKey(serverKeyfile, server);
      await save(book);
      say(`initialised ${Object.keys(book).join(", ")}`);
    },
  }),
);

export default defineCommand({
  meta: {
    name: "addressbook",
    description: "Name wallets (admin, server, hot, dev, broker and your own) so commands can refer to them by name",
    examples: ["blockhost addressbook list"],
  },
  subCommands: { add, del, up, new: create, list, init },
});
