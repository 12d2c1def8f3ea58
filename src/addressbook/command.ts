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
    description: "entry name (lowercase letters, digits, -)",
  },
};
const addressArg = {
  address: { type: "positional" as const, required: true as const, description: "0x wallet address" },
};

const add = defineCommand({
  meta: { name: "add", description: "Add an entry NAME → ADDRESS" },
  args: { ...nameArg, ...addressArg },
  async run({ args }) {
    const book = addEntry(loadAddressbook(), args.name, args.address);
    await new AgentClient().call("addressbook-add", { name: args.name, address: book[args.name]!.address });
    say(`added ${args.name} ${book[args.name]!.address}`);
  },
});

const del = defineCommand({
  meta: { name: "del", description: "Delete an entry (a key file it names is kept)" },
  args: nameArg,
  async run({ args }) {
    const before = loadAddressbook();
    deleteEntry(before, args.name);
    await new AgentClient().call("addressbook-remove", { name: args.name });
    say(`deleted ${args.name}${before[args.name]?.keyfile ? ` (key file ${before[args.name]!.keyfile} kept)` : ""}`);
  },
});

const up = defineCommand({
  meta: { name: "up", description: "Change an entry's address (its key file is kept)" },
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
    description: "Generate a wallet NAME (key in /etc/blockhost/NAME.key, by the agent); prints its address",
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
  meta: { name: "list", description: "Show the addressbook" },
  args: { json: { type: "boolean", description: "print the addressbook as JSON" } },
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
    meta: { name: "init", description: "Fill an empty addressbook: init ADMIN SERVER [DEV] [BROKER] SERVER_KEYFILE" },
    args: {
      admin: { type: "positional", required: true, description: "admin wallet address" },
      server: {
        type: "positional",
        required: true,
        description: "server (deployer) wallet address; then optional DEV and BROKER addresses, then SERVER_KEYFILE",
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
    description: "Named wallets: admin, server, hot, dev, broker and your own (the original ab)",
  },
  subCommands: { add, del, up, new: create, list, init },
});
