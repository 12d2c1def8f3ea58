/** Decrypt without a browser wallet: show what to sign (e.g. with `cast wallet sign`), open the NFT with a pasted signature. */
import { errorText, setStatus } from "../wallet.ts";
import { openPayload, renderDetails } from "./details.ts";
import { api, byId, data } from "./page.ts";

let payload: string | null = null;

export async function loadOffline(): Promise<void> {
  const token = byId<HTMLInputElement>("offline-token").value.trim();
  if (!/^\d{1,12}$/.test(token)) {
    setStatus("Enter the number of your access NFT.", "error");
    return;
  }
  try {
    const nft = await api<{ payload: string }>(`/api/v1/credentials/${token}`);
    payload = nft.payload;
    byId("offline-secret").textContent = data.publicSecret;
    byId("offline-command").textContent = `cast wallet sign --interactive "${data.publicSecret}"`;
    byId("offline-info").hidden = false;
    byId("offline-signature").focus();
    setStatus(
      payload === "0x"
        ? `NFT #${token} carries no details: connect the wallet that holds it and use "My servers".`
        : `Sign the text and paste the signature.`,
    );
  } catch (e) {
    setStatus(errorText(e), "error");
  }
}

export function decryptOffline(): void {
  const signature = byId<HTMLInputElement>("offline-signature").value.trim();
  if (!/^0x[0-9a-fA-F]{130}$/.test(signature)) {
    setStatus("A signature is 0x followed by 130 hex digits.", "error");
    return;
  }
  const details = payload ? openPayload(payload, signature) : null;
  if (!details) {
    setStatus("That signature does not open this NFT (wrong wallet, or a different text was signed).", "error");
    return;
  }
  renderDetails(byId("offline-result"), details);
  setStatus("Connection details shown.", "ok");
}
