/** The admin login page's script: an EIP-4361 sign-in; the server checks the wallet holds the admin NFT. */
import { signInWithWallet } from "./siwe.ts";
import { errorText, setStatus } from "./wallet.ts";

document.getElementById("btn-login")?.addEventListener("click", async () => {
  try {
    await signInWithWallet("/admin/login/challenge", "/admin/login", {
      onMessage: (m) => {
        const shown = document.getElementById("login-message");
        if (shown) shown.textContent = m;
      },
    });
    setStatus("Signed in.", "ok");
    location.assign("/admin");
  } catch (e) {
    setStatus(errorText(e), "error");
  }
});
