/** Buying a plan: sign the public secret, encrypt it to the host, pay (approve only if needed), follow provisioning. */
import { BlockhostError } from "../../../core/errors.ts";
import { bytesToHex, parseEventLogs } from "viem";
import { blockhostSubscriptionsAbi } from "../../../chain/contracts/generated/BlockhostSubscriptions.ts";
import { eciesEncrypt } from "../../../crypto/ecies.ts";
import { parsePublicKey } from "../../../crypto/keys.ts";
import { errorText, setStatus, signText } from "../wallet.ts";
import { daysFrom } from "../days.ts";
import { ensureFunds } from "./funds.ts";
import { byId, chain, connect, data, mined, txLink, writer } from "./page.ts";
import { follow } from "./progress.ts";

export async function buy(button: HTMLButtonElement): Promise<void> {
  const planId = BigInt(byId<HTMLSelectElement>("plan-select").value);
  const days = daysFrom(byId<HTMLInputElement>("days-input"));
  if (!days) {
    setStatus("Days must be a whole number from 1 to 3650.", "error");
    byId("days-input").focus();
    return;
  }
  button.disabled = true;
  try {
    const from = await connect();
    setStatus(`Sign "${data.publicSecret}" in your wallet…`);
    const signature = await signText(from, data.publicSecret);
    // The OS choice rides in the encrypted payload, after the signature (engine/payload.ts reads it).
    const os = (document.getElementById("os-select") as HTMLSelectElement | null)?.value;
    const plain = os ? `${signature}\nos=${os}` : signature;
    const payload = bytesToHex(eciesEncrypt(parsePublicKey(data.serverPublicKey), new TextEncoder().encode(plain)));
    await ensureFunds(from, planId, days);
    setStatus("Confirm the purchase in your wallet…");
    const hash = await writer(from).writeContract({
      address: data.subscriptions,
      abi: blockhostSubscriptionsAbi,
      functionName: "buySubscription",
      args: [planId, days, 1n, payload],
      account: from,
      chain,
    });
    byId("tx-link").replaceChildren("Payment: ", txLink(hash));
    setStatus("Waiting for the payment to be mined…");
    const receipt = await mined(hash);
    const [created] = parseEventLogs({
      abi: blockhostSubscriptionsAbi,
      logs: receipt.logs,
      eventName: "SubscriptionCreated",
    });
    if (!created) throw new BlockhostError("E_CHAIN", "the payment was mined but created no subscription");
    await follow(Number(created.args.subscriptionId), signature);
  } catch (e) {
    setStatus(errorText(e), "error");
  } finally {
    button.disabled = false;
  }
}
