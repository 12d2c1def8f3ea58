/** The signup page's wallet flows (viem, @noble), loaded by the page script after the page has painted. */
import { errorText, setStatus } from "../wallet.ts";
import { decryptOffline, loadOffline } from "./offline.ts";
import { byId, connect } from "./page.ts";
import { buy } from "./purchase.ts";
import { showServers } from "./servers.ts";

export async function connectClicked(): Promise<void> {
  try {
    const account = await connect();
    byId("wallet-address").textContent = account;
    byId<HTMLButtonElement>("btn-purchase").disabled = !document.getElementById("plan-select");
    byId<HTMLButtonElement>("btn-servers").disabled = false;
    setStatus("Wallet connected.", "ok");
  } catch (e) {
    setStatus(errorText(e), "error");
  }
}

export const buyClicked = () => buy(byId<HTMLButtonElement>("btn-purchase"));
export const serversClicked = () => showServers().catch((e: unknown) => setStatus(errorText(e), "error"));
export { decryptOffline, loadOffline };
