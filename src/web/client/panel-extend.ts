/** "Extend" on a My-servers card: pay on chain through the lazily loaded wallet module, then wait for the engine. */
import type { PanelPay } from "../public/panel/extend.tsx";
import { daysFrom } from "./days.ts";

type Say = (text: string, kind?: "info" | "ok" | "error") => void;
type WalletModule = { extend(pay: PanelPay, id: bigint, days: bigint): Promise<{ hash: string; expiresAt: bigint }> };

/**
 * Pay the days typed on `card`'s extend field for subscription `id`. The card's expiry changes only when
 * the engine has seen the payment on chain (the live list), which is what the server acts on.
 */
export async function extendFromCard(
  card: HTMLElement,
  name: string,
  id: string,
  pay: PanelPay,
  wallet: () => Promise<WalletModule>,
  say: Say,
): Promise<void> {
  const input = card.querySelector<HTMLInputElement>('[data-field="extend-days"]');
  const days = input ? daysFrom(input) : null;
  if (!days) {
    input?.focus();
    return say("Days must be a whole number from 1 to 3650.", "error");
  }
  const button = card.querySelector<HTMLButtonElement>("button[data-extend]");
  if (button) button.disabled = true;
  try {
    const { hash, expiresAt } = await (await wallet()).extend(pay, BigInt(id), days);
    const until = `${new Date(Number(expiresAt) * 1000).toISOString().slice(0, 16).replace("T", " ")} UTC`;
    card.dataset.extendedTx = hash;
    say(`Paid: ${name} is extended until ${until}; the server follows once the host sees the payment.`, "ok");
  } finally {
    if (button) button.disabled = false;
  }
}
