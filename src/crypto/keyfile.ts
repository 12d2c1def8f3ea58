/** Read wallet key files (hex secp256k1 keys), refusing unsafe ones. */
import { bytesToHex } from "viem";
import { privateKeyToAccount, type PrivateKeyAccount } from "viem/accounts";
import { BlockhostError } from "../core/errors.ts";
import { readPrivateFile } from "../core/private-file.ts";
import { parsePrivateKey } from "./keys.ts";

/**
 * Load a wallet from a key file (hex secp256k1 key, optional 0x, as /etc/blockhost/*.key).
 * Keys come only from files named in config — never argv or the environment — and a file
 * that others can read, any non-owner can write, or a user other than root, blockhost or the
 * caller owns is refused. Errors name the file, never its content.
 */
export function loadKeyFile(file: string, what = "key file"): PrivateKeyAccount {
  return privateKeyToAccount(bytesToHex(readKeyFile(file, what)));
}

/** The raw 32-byte key from a key file, with the same ownership/mode checks as loadKeyFile. */
export function readKeyFile(file: string, what = "key file"): Uint8Array {
  const label = `${what} ${file}`;
  const text = readPrivateFile(file, {
    label,
    forbiddenMode: 0o027,
    modeProblem: "lets others access it; chmod 0640 (or 0600)",
    owner: "root, blockhost or caller",
  });
  try {
    return parsePrivateKey(text, label);
  } catch {
    throw new BlockhostError("E_CONFIG_INVALID", `${label}: expected a 64-digit hex private key`);
  }
}
