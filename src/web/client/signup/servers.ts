/** "My servers": the wallet's subscriptions (with extend) and access NFTs (sign to decrypt). */
import type { Address } from "viem";
import { accessCredentialNftAbi } from "../../../chain/contracts/generated/AccessCredentialNFT.ts";
import { blockhostSubscriptionsAbi } from "../../../chain/contracts/generated/BlockhostSubscriptions.ts";
import { errorText, setStatus, signText } from "../wallet.ts";
import { openPayload, renderDetails } from "./details.ts";
import { extendSubscription } from "../subscription-pay.ts";
import { api, byId, connect, data, make, payTarget, reader, txLink } from "./page.ts";
import { daysFrom } from "../days.ts";
import { revealWithChallenge } from "./reveal.ts";

const MAX_LISTED = 100;
const date = (seconds: bigint) =>
  `${new Date(Number(seconds) * 1000).toISOString().slice(0, 16).replace("T", " ")} UTC`;

export async function showServers(): Promise<void> {
  const from = await connect();
  const list = byId("server-list");
  list.replaceChildren();
  const r = reader();
  const subs = (
    await r.readContract({
      address: data.subscriptions,
      abi: blockhostSubscriptionsAbi,
      functionName: "getSubscriptionsBySubscriber",
      args: [from],
    })
  ).slice(-MAX_LISTED);
  const count = Number(
    await r.readContract({ address: data.nft, abi: accessCredentialNftAbi, functionName: "balanceOf", args: [from] }),
  );
  if (subs.length === 0 && count === 0) {
    list.append(make("p", "This wallet has no servers here.", { id: "no-servers" }));
    setStatus("This wallet has no servers here.");
    return;
  }
  if (subs.length > 0) {
    list.append(make("h3", "Subscriptions"));
    const ul = make("ul", "", { id: "subscription-list" });
    for (const id of subs) ul.append(await subscriptionItem(from, id));
    list.append(ul);
  }
  if (count > 0) {
    list.append(make("h3", "Access NFTs"));
    const ul = make("ul", "", { id: "nft-list" });
    for (let i = 0; i < Math.min(count, MAX_LISTED); i++) {
      const token = await r.readContract({
        address: data.nft,
        abi: accessCredentialNftAbi,
        functionName: "tokenOfOwnerByIndex",
        args: [from, BigInt(i)],
      });
      ul.append(nftItem(from, String(token)));
    }
    list.append(ul);
  }
  setStatus(`${subs.length} subscription(s), ${count} access NFT(s).`);
}

async function subscriptionItem(from: Address, id: bigint): Promise<HTMLElement> {
  const [planId, , expiresAt, , cancelled] = await reader().readContract({
    address: data.subscriptions,
    abi: blockhostSubscriptionsAbi,
    functionName: "getSubscription",
    args: [id],
  });
  const plan = data.plans.find((p) => BigInt(p.id) === planId);
  const li = make("li", "", { "data-subscription": String(id) });
  const expiry = make("span", date(expiresAt), { class: "expiry" });
  li.append(`#${id} ${plan?.name ?? `plan ${planId}`} — ${cancelled ? "cancelled" : "expires "}`, expiry);
  if (cancelled) return li;
  const label = make("label", `Days to add to subscription ${id}`, {
    for: `extend-days-${id}`,
    class: "visually-hidden",
  });
  const days = make("input", "", {
    id: `extend-days-${id}`,
    type: "number",
    min: "1",
    max: "3650",
    value: "30",
    inputmode: "numeric",
  });
  const button = make("button", "Extend", { type: "button" });
  button.addEventListener("click", () => void extend(from, id, days, expiry, button));
  li.append(label, days, button);
  return li;
}

async function extend(
  from: Address,
  id: bigint,
  input: HTMLInputElement,
  expiry: HTMLElement,
  button: HTMLButtonElement,
): Promise<void> {
  const days = daysFrom(input);
  if (!days) return setStatus("Days must be a whole number from 1 to 3650.", "error");
  button.disabled = true;
  try {
    const { hash, expiresAt } = await extendSubscription(payTarget, from, id, days);
    expiry.textContent = date(expiresAt);
    expiry.dataset.seconds = String(expiresAt);
    const note = make("span", " Extended: ");
    note.append(txLink(hash));
    button.after(note);
    setStatus(`Subscription ${id} now expires ${date(expiresAt)}.`, "ok");
  } catch (e) {
    setStatus(errorText(e), "error");
  } finally {
    button.disabled = false;
  }
}

function nftItem(from: Address, token: string): HTMLElement {
  const li = make("li", `Access NFT #${token} `, { "data-token": token });
  const button = make("button", "Sign to decrypt", { type: "button" });
  const box = make("div", "", { class: "details" });
  button.addEventListener("click", () => void decrypt(from, token, box, button));
  li.append(button, box);
  return li;
}

async function decrypt(from: Address, token: string, box: HTMLElement, button: HTMLButtonElement): Promise<void> {
  button.disabled = true;
  try {
    setStatus(`Sign "${data.publicSecret}" in your wallet…`);
    const signature = await signText(from, data.publicSecret);
    const nft = await api<{ payload: string }>(`/api/v1/credentials/${token}`);
    const details = openPayload(nft.payload, signature);
    if (details) {
      renderDetails(box, details);
      setStatus(`Connection details of NFT #${token} shown.`, "ok");
    } else {
      setStatus("This NFT does not open with your signature; proving you hold it instead…");
      await revealWithChallenge(token, box);
    }
  } catch (e) {
    setStatus(errorText(e), "error");
  } finally {
    button.disabled = false;
  }
}
