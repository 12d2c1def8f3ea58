/** The signup page's script: wires the buttons to the purchase, my-servers and offline flows. */
import { errorText, setStatus } from "./wallet.ts";
import { decryptOffline, loadOffline } from "./signup/offline.ts";
import { byId, connect } from "./signup/page.ts";
import { buy, updateTotal } from "./signup/purchase.ts";
import { showServers } from "./signup/servers.ts";

function main(): void {
  const purchase = byId<HTMLButtonElement>("btn-purchase");
  const servers = byId<HTMLButtonElement>("btn-servers");
  document.getElementById("plan-select")?.addEventListener("change", updateTotal);
  document.getElementById("days-input")?.addEventListener("input", updateTotal);
  updateTotal();
  byId("btn-connect").addEventListener("click", async () => {
    try {
      const account = await connect();
      byId("wallet-address").textContent = account;
      purchase.disabled = !document.getElementById("plan-select");
      servers.disabled = false;
      setStatus("Wallet connected.", "ok");
    } catch (e) {
      setStatus(errorText(e), "error");
    }
  });
  purchase.addEventListener("click", () => void buy(purchase));
  servers.addEventListener("click", () => void showServers().catch((e: unknown) => setStatus(errorText(e), "error")));
  byId("btn-offline-load").addEventListener("click", () => void loadOffline());
  byId("btn-offline-decrypt").addEventListener("click", decryptOffline);
}

main();
