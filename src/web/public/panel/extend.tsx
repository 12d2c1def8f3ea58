/** "Extend" on a My-servers card: pay more days on chain from the panel; the engine moves the expiry when it sees the event. */
import type { ServeDeps } from "../deps.ts";
import type { Stablecoin } from "../chain.ts";

/** What the panel's wallet module needs to pay: the same contract call the signup page makes. */
export interface PanelPay {
  chainId: number;
  rpcUrl: string | null;
  subscriptions: `0x${string}`;
  stablecoin: Stablecoin | null;
}

export async function panelPay(deps: ServeDeps): Promise<PanelPay> {
  return {
    chainId: deps.chainId,
    rpcUrl: deps.publicRpcUrl,
    subscriptions: deps.chain.subscriptions,
    stablecoin: await deps.chain.stablecoin().catch(() => null),
  };
}

/** The expiry as the card shows it (server render and live updates alike). */
export const expiryText = (iso: string) => `${iso.slice(0, 16).replace("T", " ")} UTC`;

/** Days to add and the button; `data-extend` carries the subscription id the payment extends. */
export function ExtendControl(props: { server: string; subscription: number | null }) {
  if (props.subscription === null) return null;
  const id = `extend-${props.server}`;
  return (
    <span class="extend">
      <label for={id}>Days to add</label>{" "}
      <input id={id} type="number" min="1" max="3650" value="30" inputmode="numeric" data-field="extend-days" />{" "}
      <button type="button" class="secondary" data-extend={String(props.subscription)}>
        Extend
      </button>
    </span>
  );
}
