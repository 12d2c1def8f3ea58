/** Read wallet key files (hex secp256k1 keys), refusing unsafe ones. */
import { lstatSync, readFileSync, type Stats } from "node:fs";
import { bytesToHex } from "viem";
import { privateKeyToAccount, type PrivateKeyAccount } from "viem/accounts";
import { BlockhostError } from "../core/errors.ts";
import { parsePrivateKey } from "../crypto/keys.ts";

/**
 * Load a wallet from a key file (hex secp256k1 key, optional 0x, as /etc/blockhost/*.key).
 * Keys come only from files named in config — never argv or the environment — and a file
 * that others can read or any non-owner can write is refused. Errors name the file, never its content.
 */
export function loadKeyFile(file: string, what = "key file"): PrivateKeyAccount {
  return privateKeyToAccount(bytesToHex(readKeyFile(file, what)));
}

/** The raw 32-byte key from a key file, with the same ownership/mode checks as loadKeyFile. */
export function readKeyFile(file: string, what = "key file"): Uint8Array {
  let st: Stats;
  try {
    st = lstatSync(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new BlockhostError(
      "E_CONFIG_MISSING",
      `${what} ${file}: ${code === "ENOENT" ? "not found" : `cannot read (${code})`}`,
    );
  }
  if (!st.isFile()) throw new BlockhostError("E_CONFIG_INVALID", `${what} ${file}: not a regular file`);
  if ((st.mode & 0o007) !== 0 || (st.mode & 0o020) !== 0) {
    throw new BlockhostError(
      "E_CONFIG_INVALID",
      `${what} ${file}: mode ${(st.mode & 0o777).toString(8).padStart(4, "0")} lets others access it; chmod 0640 (or 0600)`,
    );
  }
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    throw new BlockhostError("E_CONFIG_MISSING", `${what} ${file}: cannot read (${(e as NodeJS.ErrnoException).code})`);
  }
  let key: Uint8Array;
  try {
    key = parsePrivateKey(text, `${what} ${file}`);
  } catch {
    throw new BlockhostError("E_CONFIG_INVALID", `${what} ${file}: expected a 64-digit hex private key`);
  }
  return key;
}
