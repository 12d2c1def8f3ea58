/** Find a local user's wallet in its GECOS field. */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { paths } from "../core/paths.ts";
import { BlockhostError } from "../core/errors.ts";
import { parseGecos } from "../core/gecos.ts";

/** POSIX-ish user names as useradd accepts them (no ':' or whitespace, never a path). */
export const USER_NAME_RE = /^[a-z_][a-z0-9_.-]{0,31}\$?$/;

export interface WalletUser {
  name: string;
  wallet: `0x${string}`;
  nft?: string;
}

/**
 * Find `name` in <root>/etc/passwd and read its wallet from the GECOS field
 * (`wallet=0x…[,nft=N]`, as the provisioner's cloud-init writes it). Local users only:
 * customer VMs have no NSS sources besides files.
 */
export function lookupWalletUser(name: string, passwdFile = join(paths.root, "etc/passwd")): WalletUser {
  if (!USER_NAME_RE.test(name)) throw new BlockhostError("E_AUTH_DENIED", "invalid user name");
  const line = readFileSync(passwdFile, "utf8")
    .split("\n")
    .find((l) => l.startsWith(`${name}:`));
  if (!line) throw new BlockhostError("E_AUTH_DENIED", "no such user");
  const gecos = line.split(":")[4] ?? "";
  const owner = parseGecos(gecos);
  if (!owner) throw new BlockhostError("E_AUTH_DENIED", "user has no wallet in GECOS");
  // Lowercase: compared case-insensitively (challenge stays free of viem, which is slow to load).
  return { name, ...owner, wallet: owner.wallet.toLowerCase() as `0x${string}` };
}
