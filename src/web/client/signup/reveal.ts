/**
 * Details of a server whose NFT does not open with the holder's signature (bought without one, or
 * transferred): an EIP-4361 sign-in naming the token, the host checks the signer holds the NFT and answers; then,
 * on request, the host writes them into the NFT for this wallet's signature of the public secret.
 */
import { bytesToHex } from "viem";
import { eciesEncrypt } from "../../../crypto/ecies.ts";
import { parsePublicKey } from "../../../crypto/keys.ts";
import { signInWithWallet } from "../siwe.ts";
import { errorText, setStatus, signText } from "../wallet.ts";
import { type Details, renderDetails } from "./details.ts";
import { api, connect, data, make } from "./page.ts";

export async function revealWithChallenge(tokenId: string, into: HTMLElement): Promise<Details> {
  const account = await connect();
  const base = `/api/v1/credentials/${tokenId}`;
  const details = await signInWithWallet<Details>(`${base}/challenge`, `${base}/details`, { account });
  renderDetails(into, details);
  const save = make("button", "Save the details into my NFT", { type: "button", class: "secondary" });
  save.addEventListener("click", () => void sealIntoNft(tokenId, save));
  into.append(save);
  setStatus(`Connection details of server NFT #${tokenId} shown.`, "ok");
  return details;
}

/** Encrypt this wallet's signature of the public secret to the host; the host re-seals the NFT with it. */
export async function sealIntoNft(tokenId: string, button: HTMLButtonElement): Promise<void> {
  try {
    button.disabled = true;
    const from = await connect();
    setStatus(`Sign "${data.publicSecret}" in your wallet…`);
    const signature = await signText(from, data.publicSecret);
    const payload = bytesToHex(eciesEncrypt(parsePublicKey(data.serverPublicKey), new TextEncoder().encode(signature)));
    await api(`/api/v1/credentials/${tokenId}/seal`, { method: "POST", body: JSON.stringify({ payload }) });
    setStatus(
      'The host is writing the details into your NFT; "Sign to decrypt" works once that transaction is mined.',
      "ok",
    );
  } catch (e) {
    button.disabled = false;
    setStatus(errorText(e), "error");
  }
}
