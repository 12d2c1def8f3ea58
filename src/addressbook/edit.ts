/** Pure addressbook edits, validated, for the addressbook CLI. */
import { getAddress } from "viem";
import { addressbookName, IMMUTABLE_ROLES, keyfilePath, type Addressbook } from "../core/config/addressbook.ts";
import { BlockhostError } from "../core/errors.ts";
import { expectedOf, isSchemaError, type Schema } from "../core/schema.ts";
import { evmAddress, SHORT_NAME_RE } from "../core/validators.ts";

/** Pure addressbook edits: each validates its input and returns a new book (the caller saves it through the agent). */

function parse<T>(schema: Schema<T>, value: unknown, what: string): T {
  try {
    return schema.parse(value, what);
  } catch (e) {
    if (isSchemaError(e)) {
      throw new BlockhostError("E_INVALID_INPUT", `${what} ${JSON.stringify(value)}: expected ${expectedOf(e)}`);
    }
    throw e;
  }
}

/** A name the CLI may change: valid for the agent and not one of the system roles. */
export function editableName(name: string): string {
  parse(addressbookName, name, "name");
  if (IMMUTABLE_ROLES.includes(name)) {
    throw new BlockhostError(
      "E_INVALID_INPUT",
      `"${name}" is a system role (${IMMUTABLE_ROLES.join(", ")}) and cannot be changed here`,
    );
  }
  return name;
}

/** A 0x address, returned EIP-55 checksummed. */
export function checksummed(address: string, what = "address"): `0x${string}` {
  return getAddress(parse(evmAddress, address, what));
}

/** A name `generate-wallet` accepts: the agent's SHORT_NAME_RE (≤32 chars) and not a system role. */
export function newWalletName(name: string): string {
  editableName(name);
  if (!SHORT_NAME_RE.test(name))
    throw new BlockhostError("E_INVALID_INPUT", `name "${name}": a generated wallet's name is at most 32 characters`);
  return name;
}

export function addEntry(book: Addressbook, name: string, address: string): Addressbook {
  editableName(name);
  if (Object.hasOwn(book, name))
    throw new BlockhostError(
      "E_CONFLICT",
      `"${name}" is already in the addressbook (use: blockhost addressbook up ${name} ADDRESS)`,
    );
  return { ...book, [name]: { address: checksummed(address) } };
}

/** Change an entry's address; its keyfile is kept. */
export function updateEntry(book: Addressbook, name: string, address: string): Addressbook {
  editableName(name);
  const entry = book[name];
  if (!entry) throw new BlockhostError("E_NOT_FOUND", `"${name}" is not in the addressbook`);
  return { ...book, [name]: { ...entry, address: checksummed(address) } };
}

/** Remove an entry; a keyfile it named stays on disk. */
export function deleteEntry(book: Addressbook, name: string): Addressbook {
  editableName(name);
  if (!Object.hasOwn(book, name)) throw new BlockhostError("E_NOT_FOUND", `"${name}" is not in the addressbook`);
  const { [name]: _removed, ...rest } = book;
  return rest;
}

export interface InitRoles {
  admin: string;
  server: string;
  serverKeyfile: string;
  dev?: string;
  broker?: string;
}

/** The first book: admin, server (with its keyfile), optional dev and broker. Refuses a non-empty book. */
export function initBook(book: Addressbook, roles: InitRoles): Addressbook {
  if (Object.keys(book).length > 0)
    throw new BlockhostError(
      "E_CONFLICT",
      `the addressbook already has entries (${Object.keys(book).join(", ")}); init only fills an empty one`,
    );
  const out: Addressbook = {
    admin: { address: checksummed(roles.admin, "admin address") },
    server: {
      address: checksummed(roles.server, "server address"),
      keyfile: parse(keyfilePath, roles.serverKeyfile, "server keyfile"),
    },
  };
  if (roles.dev !== undefined) out.dev = { address: checksummed(roles.dev, "dev address") };
  if (roles.broker !== undefined) out.broker = { address: checksummed(roles.broker, "broker address") };
  return out;
}
