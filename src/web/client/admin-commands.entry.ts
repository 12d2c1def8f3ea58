/** The admin-commands page's sender: build the command, encrypt it to the host key, send it from the admin's wallet. */
import { getAddress, hexToBytes, isAddressEqual, type Hex } from "viem";
import { BlockhostError } from "../../core/errors.ts";
import { buildAdminCommand, encryptAdminCommand } from "../../engine/admin-commands/payload.ts";
import type { CommandSenderData } from "../public/admin/commands-page.tsx";
import {
  chainFor,
  connectWallet,
  ensureChain,
  errorText,
  pageData,
  publicClient,
  setStatus,
  walletClient,
} from "./wallet.ts";

const data = pageData<CommandSenderData>();
const form = document.getElementById("send-command") as HTMLFormElement | null;

/** The optional knock params from the form; the engine checks them against the command's definition. */
function params(f: FormData): Record<string, unknown> {
  const text = (k: string) => String(f.get(k) ?? "").trim();
  const out: Record<string, unknown> = {};
  if (text("ports")) {
    if (!/^\d{1,5}(\s*,\s*\d{1,5}){0,31}$/.test(text("ports")))
      throw new BlockhostError("E_INVALID_INPUT", "Ports: numbers separated by commas, like 22, 2222.");
    out.ports = text("ports")
      .split(",")
      .map((p) => Number(p.trim()));
  }
  if (text("duration")) {
    if (!/^\d{1,4}$/.test(text("duration")))
      throw new BlockhostError("E_INVALID_INPUT", "Open for: a number of seconds from 1 to 3600.");
    out.duration = Number(text("duration"));
  }
  if (text("source")) out.source = text("source");
  return out;
}

form?.addEventListener("submit", async (event) => {
  event.preventDefault();
  const button = document.getElementById("btn-send-command") as HTMLButtonElement;
  button.disabled = true;
  try {
    const f = new FormData(form);
    const payload = buildAdminCommand({ command: String(f.get("command")), params: params(f) });
    const account = await connectWallet();
    if (!isAddressEqual(account, getAddress(data.adminWallet)))
      throw new BlockhostError("E_AUTH_DENIED", `Connect the admin wallet ${data.adminWallet}, not ${account}.`);
    const chain = chainFor(data.chainId, data.rpcUrl);
    await ensureChain(chain);
    setStatus("Confirm the transaction in your wallet…");
    const hash = await walletClient(account, chain).sendTransaction({
      account,
      chain,
      to: (data.destination ?? account) as Hex,
      value: 0n,
      data: encryptAdminCommand(hexToBytes(data.serverPublicKey as Hex), payload),
    });
    setStatus("Waiting for the transaction to be mined…");
    const receipt = await publicClient(chain).waitForTransactionReceipt({ hash });
    if (receipt.status !== "success") throw new BlockhostError("E_CHAIN", `The transaction ${hash} failed.`);
    (document.getElementById("command-tx") as HTMLElement).textContent = hash;
    setStatus("Command sent: the host opens the ports once the transaction is confirmed.", "ok");
  } catch (e) {
    setStatus(errorText(e), "error");
  } finally {
    button.disabled = false;
  }
});
