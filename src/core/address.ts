/** EIP-55 checksummed addresses: the one validator every address argument and config value goes through. */
import { keccak_256 } from "@noble/hashes/sha3.js";
import { BlockhostError } from "./errors.ts";

/** The shape of an address (any case); `addressProblem` adds the EIP-55 check. */
export const EVM_ADDRESS_RE = /^0x[0-9a-fA-F]{40}$/;

/** The EIP-55 form of a 0x-prefixed 20-byte hex address (any case in). */
export function toChecksumAddress(address: string): `0x${string}` {
  const lower = address.slice(2).toLowerCase();
  const hash = keccak_256(new TextEncoder().encode(lower));
  let out = "0x";
  for (let i = 0; i < 40; i++) {
    const nibble = (hash[i >> 1]! >> (i % 2 === 0 ? 4 : 0)) & 0xf;
    out += nibble >= 8 ? lower[i]!.toUpperCase() : lower[i]!;
  }
  return out as `0x${string}`;
}

/**
 * Why `value` is not an acceptable address, or null when it is. All-lowercase (or all-uppercase)
 * hex carries no checksum and is accepted, as EIP-55 says; mixed case is a checksummed address that
 * must match, so a typo is caught before funds or an NFT go to the wrong place.
 */
export function addressProblem(value: unknown): string | null {
  if (typeof value !== "string" || !EVM_ADDRESS_RE.test(value)) return "expected a 0x-prefixed 20-byte hex address";
  const body = value.slice(2);
  if (body === body.toLowerCase() || body === body.toUpperCase()) return null;
  return toChecksumAddress(value) === value
    ? null
    : `EIP-55 checksum mismatch (a typo?): mixed case must read ${toChecksumAddress(value)}, or give it all lowercase`;
}

/** True for a well-formed address whose mixed case, if any, is a valid EIP-55 checksum. */
export const isValidAddress = (value: unknown): value is `0x${string}` => addressProblem(value) === null;

/** A command-line address: checksummed on the way in, or a one-line usage error naming the argument. */
export function addressArg(value: string | undefined, what: string): `0x${string}` {
  if (value === undefined || value === "") throw new BlockhostError("E_USAGE", `${what} is required`);
  const problem = addressProblem(value);
  if (problem) throw new BlockhostError("E_USAGE", `${what}: ${problem}, got ${JSON.stringify(value.slice(0, 80))}`);
  return toChecksumAddress(value);
}
