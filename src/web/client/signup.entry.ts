/**
 * The signup page's script: the buttons are wired at once, the wallet flows (viem, @noble: most of the
 * page's code) load after the first paint and at the latest on the first click, so they never hold the paint.
 */
import { errorText, setStatus } from "./page-basics.ts";
import { updateTotal } from "./signup/total.ts";

type Flows = typeof import("./signup/flows.ts");
let loading: Promise<Flows> | null = null;
const flows = () => {
  loading ??= import("./signup/flows.ts");
  return loading;
};

function on(id: string, run: (f: Flows) => unknown): void {
  document.getElementById(id)?.addEventListener("click", () => {
    flows()
      .then(run)
      .catch((e: unknown) => setStatus(errorText(e), "error"));
  });
}

function main(): void {
  document.getElementById("plan-select")?.addEventListener("change", updateTotal);
  document.getElementById("days-input")?.addEventListener("input", updateTotal);
  updateTotal();
  on("btn-connect", (f) => f.connectClicked());
  on("btn-purchase", (f) => f.buyClicked());
  on("btn-servers", (f) => f.serversClicked());
  on("btn-offline-load", (f) => f.loadOffline());
  on("btn-offline-decrypt", (f) => f.decryptOffline());
  // Fetch the wallet code once the first paint is on screen (parsing it must not compete with that
  // paint), so the first click does not wait for it; a click before then loads it at once.
  const later = () => setTimeout(() => void flows(), 0);
  if (typeof PerformanceObserver === "undefined") return void addEventListener("load", later);
  new PerformanceObserver((list, observer) => {
    if (!list.getEntriesByName("first-contentful-paint").length) return;
    observer.disconnect();
    later();
  }).observe({ type: "paint", buffered: true });
}

main();
