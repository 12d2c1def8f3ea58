/** Live provisioning status of a purchase, polled from the status API until ready (or failed for good). */
import type { SubscriptionStatus } from "../../public/provisioning.ts";
import { setStatus } from "../wallet.ts";
import { openPayload, renderDetails } from "./details.ts";
import { api, byId, make } from "./page.ts";
import { revealWithChallenge } from "./reveal.ts";

const ORDER = ["paid", "creating_vm", "minting", "ready"] as const;

function mark(state: string): void {
  const at = ORDER.indexOf(state as (typeof ORDER)[number]);
  for (const li of byId("progress").querySelectorAll("li")) {
    const i = ORDER.indexOf(li.dataset.step as (typeof ORDER)[number]);
    li.dataset.state = i < at || state === "ready" ? "done" : i === at ? "current" : "";
    if (i === at && state !== "ready") li.setAttribute("aria-current", "step");
    else li.removeAttribute("aria-current");
  }
}

const LABEL: Record<string, string> = {
  unseen: "Payment confirmed; waiting for the host to see it…",
  paid: "Paid; your server is queued…",
  creating_vm: "Creating your server…",
  minting: "Minting your access NFT…",
};

/** Follow subscription `id` until ready; then show its details (opened with `signature` when the NFT holds them). */
export async function follow(id: number, signature: string): Promise<void> {
  const progress = byId("progress");
  progress.hidden = false;
  let last = "";
  for (;;) {
    let s: SubscriptionStatus;
    try {
      s = await api<SubscriptionStatus>(`/api/v1/subscriptions/${id}`);
    } catch {
      s = { state: "unseen" } as SubscriptionStatus;
    }
    if (s.state === "ready") break;
    if (s.state === "failed" || s.state === "cancelled" || s.state === "destroyed") {
      mark(s.state);
      const text =
        s.state === "failed"
          ? `Setting up your server failed: ${s.last_error ?? "unknown error"}.${s.retrying ? " We retry automatically; keep this page open or come back later." : " The host operator has been alerted."}`
          : `Subscription ${id} was ${s.state}.`;
      if (text !== last) setStatus(text, "error");
      last = text;
      if (!s.retrying) return;
    } else {
      mark(s.state === "unseen" ? "paid" : s.state);
      const text = LABEL[s.state] ?? s.state;
      if (text !== last) setStatus(text);
      last = text;
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
  mark("ready");
  const s = await api<SubscriptionStatus>(`/api/v1/subscriptions/${id}`);
  const result = byId("purchase-result");
  result.replaceChildren(
    make("p", `Your server ${s.vm_name ?? ""} is ready. Access NFT #${s.nft_token_id}.`, { id: "ready-line" }),
  );
  const box = make("div", "", { id: "purchase-details" });
  result.append(box);
  const token = String(s.nft_token_id);
  const nft = await api<{ payload: string }>(`/api/v1/credentials/${token}`);
  const details = openPayload(nft.payload, signature);
  if (details) {
    renderDetails(box, details);
    setStatus("Your server is ready.", "ok");
  } else {
    await revealWithChallenge(token, box);
  }
}
