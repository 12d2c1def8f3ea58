/** The admin login page's script: the wallet signs the one-time code, the server checks it holds the admin NFT. */
import { BlockhostError } from "../../core/errors.ts";
import { connectWallet, errorText, pageData, setStatus, signText } from "./wallet.ts";
import type { AdminLoginData } from "../public/admin/login.tsx";

const data = pageData<AdminLoginData>();

document.getElementById("btn-login")?.addEventListener("click", async () => {
  try {
    const account = await connectWallet();
    setStatus("Sign the message in your wallet…");
    const signature = await signText(account, data.message);
    const r = await fetch("/admin/login", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ code: data.code, signature }),
    });
    const body = (await r.json().catch(() => ({}))) as { error?: string };
    if (!r.ok) throw new BlockhostError("E_AUTH_DENIED", body.error ?? `login failed (${r.status})`);
    setStatus("Signed in.", "ok");
    location.assign("/admin");
  } catch (e) {
    setStatus(errorText(e), "error");
  }
});
