/** Mint a VM's credential exactly once, recognising an earlier unrecorded mint. */
import type { Database } from "bun:sqlite";
import { getAbiItem, isAddressEqual, type Account, type Hex } from "viem";
import { accessCredentialNftAbi } from "../chain/contracts/generated/AccessCredentialNFT.ts";
import type { ChainAccess } from "../chain/client.ts";
import { onChain } from "../chain/errors.ts";
import { mintCredential } from "../chain/mint.ts";
import { mintedTokenIds } from "../core/state/vms.ts";
import { decryptWithSignature, utf8 } from "../crypto/symmetric.ts";
import { connectionDetails } from "./payload.ts";

const MINTED = getAbiItem({ abi: accessCredentialNftAbi, name: "CredentialMinted" });

/**
 * Look on the chain for a credential this engine minted for this VM but did not record (a
 * crash between sending the mint and writing its token id): tokens minted to `recipient` since
 * the mint was attempted, not recorded for another VM, whose payload decrypts with the buyer's
 * signature to this VM's details — or, for a purchase without a readable signature, is empty.
 */
export async function findMintedCredential(
  access: ChainAccess,
  db: Database,
  search: { nft: Hex; recipient: Hex; fromBlock: bigint; signature: Hex | null; hostname: string; username: string },
): Promise<bigint | null> {
  const { nft, recipient, fromBlock, signature } = search;
  const logs = await onChain("look for an earlier mint", () => access.publicClient.getLogs({ address: nft, event: MINTED, args: { recipient }, fromBlock, toBlock: "latest" }));
  if (logs.length === 0) return null;
  const recorded = mintedTokenIds(db, recipient);
  const wanted = connectionDetails(search.hostname, search.username);
  for (const log of logs) {
    const tokenId = log.args.tokenId!;
    if (recorded.has(Number(tokenId))) continue;
    const data = await onChain("read credential", () => access.publicClient.readContract({ address: nft, abi: accessCredentialNftAbi, functionName: "getUserEncrypted", args: [tokenId] }));
    if (signature === null) {
      if (data === "0x") return tokenId;
      continue;
    }
    try {
      if (utf8(decryptWithSignature(signature, data)) === wanted) return tokenId;
    } catch {
      // Another credential of the same buyer (another VM): not ours.
    }
  }
  return null;
}

/** Where a mint attempt started: recorded before the transaction is sent. */
export interface MintIntent { fromBlock: bigint | null; record(fromBlock: bigint): void }

/**
 * Mint unless the chain already has it. A mint that was never attempted (no intent recorded) is
 * sent straight away; after an interrupted attempt the chain is searched from where it started.
 */
export interface CredentialRequest {
  minter: Account;
  nft: Hex;
  recipient: Hex;
  intent: MintIntent;
  /** The buyer's signature (the payload key) and the details it seals: to recognise an earlier mint (null: an empty payload). */
  signature: Hex | null;
  hostname: string;
  username: string;
  /** The encrypted payload to mint, computed only when a mint is sent. */
  seal: () => Hex;
}

export async function ensureCredential(
  access: ChainAccess,
  db: Database,
  req: CredentialRequest,
): Promise<{ tokenId: bigint; minted: boolean }> {
  const { minter, nft, recipient, intent } = req;
  if (intent.fromBlock !== null) {
    const existing = await findMintedCredential(access, db, { ...req, fromBlock: intent.fromBlock });
    if (existing !== null) return { tokenId: existing, minted: false };
  }
  intent.record(await onChain("read the chain head", () => access.publicClient.getBlockNumber()));
  const r = await mintCredential(access, minter, nft, recipient, req.seal());
  return { tokenId: r.tokenId, minted: true };
}

/** The current holder of a credential, or null when the call fails (token gone, RPC down). */
export async function credentialOwner(access: ChainAccess, nft: Hex, tokenId: number): Promise<Hex | null> {
  try {
    return await access.publicClient.readContract({ address: nft, abi: accessCredentialNftAbi, functionName: "ownerOf", args: [BigInt(tokenId)] });
  } catch {
    return null;
  }
}

export const sameAddress = (a: string | null, b: string | null) => !!a && !!b && isAddressEqual(a as Hex, b as Hex);
