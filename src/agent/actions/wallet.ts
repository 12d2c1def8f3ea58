/** Agent actions: wallet keys and the addressbook in /etc/blockhost. */
import { existsSync } from "node:fs";
import { basename, dirname } from "node:path";
import { privateKeyToAccount } from "viem/accounts";
import { BlockhostError } from "../../core/errors.ts";
import { paths } from "../../core/paths.ts";
import { object, optional, record, refine, str } from "../../core/schema.ts";
import { SHORT_NAME_RE, evmAddress } from "../../core/validators.ts";
import { addressbookName, keyfilePath, loadAddressbook, type Addressbook } from "../../core/config/addressbook.ts";
import { loadKeyFile } from "../../crypto/keyfile.ts";
import { ensureDirUnder, writeFileAtomic } from "../../core/fs.ts";
import { defineAction } from "./types.ts";

/** Wallet keys and the addressbook in /etc/blockhost. Keys are never returned or logged. */

/** Names that belong to other keys (server.key, deployer/admin, dev, broker); `hot` is allowed. */
export const WALLET_DENY_NAMES = ["admin", "server", "dev", "broker"] as const;

/** Key files the addressbook may name: `<config dir>/<name>.key`, nothing else. */
const confinedKeyfile = refine(
  keyfilePath,
  "a *.key file directly in the blockhost config directory",
  (v) => dirname(v) === paths.configDir && /^[a-z0-9-]{1,64}\.key$/.test(basename(v)),
);
/** An entry name; never starting with "-" (it could read as an option wherever it is shown or passed on). */
const entryName = refine(
  addressbookName,
  "a name of lowercase letters, digits and - not starting with -",
  (n) => !n.startsWith("-"),
);
const entries = record(addressbookName, object({ address: evmAddress, keyfile: optional(confinedKeyfile) }), 1000);

/** Serialises addressbook read-modify-write within the agent, its only writer. */
let addressbookLock: Promise<unknown> = Promise.resolve();
function withAddressbook<T>(fn: () => T): Promise<T> {
  const next = addressbookLock.then(fn, fn);
  addressbookLock = next.catch(() => undefined);
  return next;
}

function writeAddressbook(book: Addressbook): void {
  ensureDirUnder(paths.root, paths.configDir);
  writeFileAtomic(paths.addressbook, `${JSON.stringify(book, null, 2)}\n`, { mode: 0o640, blockhostGroup: true });
}

/** A fresh key in <config>/<name>.key (0640 root:blockhost), its EIP-55 address added to the addressbook. */
export const generateWallet = defineAction({
  name: "generate-wallet",
  params: object({
    name: refine(
      str(SHORT_NAME_RE, "a name of lowercase letters, digits and - (≤32)", 32),
      `a name other than ${WALLET_DENY_NAMES.join(", ")}`,
      (n) => !n.startsWith("-") && !(WALLET_DENY_NAMES as readonly string[]).includes(n),
    ),
  }),
  timeoutMs: 30_000,
  handler: (p) =>
    withAddressbook(() => {
      const file = paths.config(`${p.name}.key`);
      const book = loadAddressbook(); // a broken addressbook fails before a key file exists
      if (existsSync(file)) {
        if (Object.hasOwn(book, p.name)) throw new BlockhostError("E_CONFLICT", `${file} already exists`);
        // The key survived but its entry was lost (an older whole-book write): re-register it rather than block forever.
        const address = loadKeyFile(file, `${p.name} key file`).address;
        book[p.name] = { address, keyfile: file };
        writeAddressbook(book);
        return { address, keyfile: file };
      }
      const key = crypto.getRandomValues(new Uint8Array(32));
      const hex = Buffer.from(key).toString("hex");
      const address = privateKeyToAccount(`0x${hex}`).address;
      ensureDirUnder(paths.root, paths.configDir);
      writeFileAtomic(file, hex, { mode: 0o640, blockhostGroup: true, noClobber: true });
      key.fill(0);
      book[p.name] = { address, keyfile: file };
      writeAddressbook(book);
      return { address, keyfile: file };
    }),
});

/** Replace the addressbook with `entries` (0640 root:blockhost, atomic). */
export const addressbookSave = defineAction({
  name: "addressbook-save",
  params: object({ entries }),
  timeoutMs: 30_000,
  handler: (p) =>
    withAddressbook(() => {
      writeAddressbook(p.entries);
      return { entries: Object.keys(p.entries).length };
    }),
});

/** One entry at a time, read-modify-written under the agent's addressbook lock (concurrent writers lose nothing). */
export const addressbookAdd = defineAction({
  name: "addressbook-add",
  params: object({ name: entryName, address: evmAddress, keyfile: optional(confinedKeyfile) }),
  timeoutMs: 30_000,
  handler: (p) =>
    withAddressbook(() => {
      const book = loadAddressbook();
      if (Object.hasOwn(book, p.name))
        throw new BlockhostError("E_CONFLICT", `"${p.name}" is already in the addressbook`);
      book[p.name] = p.keyfile ? { address: p.address, keyfile: p.keyfile } : { address: p.address };
      writeAddressbook(book);
      return { name: p.name, entries: Object.keys(book).length };
    }),
});

/** Change one entry's address; its key file is kept. */
export const addressbookUpdate = defineAction({
  name: "addressbook-update",
  params: object({ name: entryName, address: evmAddress }),
  timeoutMs: 30_000,
  handler: (p) =>
    withAddressbook(() => {
      const book = loadAddressbook();
      const entry = Object.hasOwn(book, p.name) ? book[p.name] : undefined;
      if (!entry) throw new BlockhostError("E_NOT_FOUND", `"${p.name}" is not in the addressbook`);
      book[p.name] = { ...entry, address: p.address };
      writeAddressbook(book);
      return { name: p.name, entries: Object.keys(book).length };
    }),
});

/** Remove one entry; a key file it named stays on disk. */
export const addressbookRemove = defineAction({
  name: "addressbook-remove",
  params: object({ name: entryName }),
  timeoutMs: 30_000,
  handler: (p) =>
    withAddressbook(() => {
      const book = loadAddressbook();
      if (!Object.hasOwn(book, p.name))
        throw new BlockhostError("E_NOT_FOUND", `"${p.name}" is not in the addressbook`);
      delete book[p.name];
      writeAddressbook(book);
      return { name: p.name, entries: Object.keys(book).length };
    }),
});
