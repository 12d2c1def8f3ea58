/** Reads and checks a setup file: ownership and mode, the strict schema, the admin signature, the chain id. */
import { getAddress, isAddressEqual, recoverMessageAddress, type Hex } from "viem";
import type { ChainAccess } from "../chain/client.ts";
import { parseConfigText } from "../core/config/load.ts";
import { BlockhostError } from "../core/errors.ts";
import { readPrivateFile } from "../core/private-file.ts";
import { readRegularFile } from "../core/regular-file.ts";
import { setupFileSchema, type SetupFile } from "./schema.ts";

/** Known USDC contracts, used when `chain.stablecoin` is absent. */
export const KNOWN_USDC: Readonly<Record<number, Hex>> = {
  1: "0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48",
  8453: "0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913",
  11155111: "0x1c7D4B196Cb0C7B01d743Fbc6116a902379C7238",
  84532: "0x036CbD53842c5426634e7929541eC2318f3dCF7e",
};

const configError = (file: string, key: string, expected: string) =>
  new BlockhostError("E_CONFIG_INVALID", `${file}: ${key}: ${expected}`, { file, key });

/** The setup file, refused unless it is a regular file owned by the caller with mode 0600 or stricter. */
export function loadSetupFile(file: string): SetupFile {
  const text = readPrivateFile(file, {
    forbiddenMode: 0o177,
    modeProblem: "is too open; chmod 0600 (it names key files)",
    owner: "caller",
  });
  return parseConfigText(file, text, setupFileSchema);
}

/** Read admin.signature_file and check that it is the admin wallet's signature of the public secret. */
export async function adminSignature(file: string, setup: SetupFile): Promise<Hex> {
  let text: string;
  try {
    text = readRegularFile(setup.admin.signature_file).trim();
  } catch (e) {
    throw configError(
      file,
      "admin.signature_file",
      `cannot read ${setup.admin.signature_file} (${(e as NodeJS.ErrnoException).code})`,
    );
  }
  if (!/^0x[0-9a-fA-F]{130}$/.test(text))
    throw configError(file, "admin.signature_file", "expected a file holding 0x + 130 hex digits");
  const signature = text as Hex;
  let signer: Hex;
  try {
    signer = await recoverMessageAddress({ message: setup.admin.public_secret, signature });
  } catch {
    throw configError(file, "admin.signature_file", "not a valid secp256k1 signature");
  }
  if (!isAddressEqual(signer, setup.admin.wallet as Hex)) {
    throw configError(
      file,
      "admin.signature_file",
      `signature of "${setup.admin.public_secret}" recovers to ${signer}, not admin.wallet ${getAddress(setup.admin.wallet as Hex)}`,
    );
  }
  return signature;
}

/** The primary stablecoin, or a config error naming chain.stablecoin. */
export function stablecoinOf(file: string, setup: SetupFile): Hex {
  const address = (setup.chain.stablecoin as Hex | undefined) ?? KNOWN_USDC[setup.chain.chain_id];
  if (!address)
    throw configError(file, "chain.stablecoin", `required: chain ${setup.chain.chain_id} has no known USDC`);
  return getAddress(address);
}

/** The RPC must answer with chain.chain_id. */
export async function checkChainId(file: string, setup: SetupFile, access: ChainAccess): Promise<void> {
  let id: number;
  try {
    id = await access.publicClient.getChainId();
  } catch {
    throw new BlockhostError("E_CHAIN", `${file}: chain.rpc_url: ${setup.chain.rpc_url} does not answer eth_chainId`);
  }
  if (id !== setup.chain.chain_id)
    throw configError(file, "chain.chain_id", `${setup.chain.chain_id}, but ${setup.chain.rpc_url} is chain ${id}`);
}
