/** Admin login: the NFT #credential_nft_id holder signs `Authenticate to {host} with code: {code}` (the PAM message). */
import { isAddressEqual, recoverMessageAddress, type Hex } from "viem";
import { otpMessage } from "../../../vmauth/otp.ts";
import type { ServeDeps } from "../deps.ts";

/** The admin right belongs to whoever holds the admin NFT now: checked at login and on every request. */
export async function isAdmin(deps: ServeDeps, wallet: string): Promise<boolean> {
  const holder = await deps.chain.ownerOf(deps.adminTokenId);
  return holder !== null && isAddressEqual(holder, wallet as Hex);
}

export const adminMessage = (deps: ServeDeps, code: string) => otpMessage(deps.hostName, code);

/** The wallet that signed the login message for `code`. */
export async function loginSigner(deps: ServeDeps, code: string, signature: Hex): Promise<Hex> {
  return await recoverMessageAddress({ message: adminMessage(deps, code), signature });
}
