// The signing page's browser code: connect an EIP-1193 wallet, sign the login code with
// personal_sign, hand the signature to the SSH session through the callback.
const $ = (id) => document.getElementById(id);
const session = new URLSearchParams(location.search).get("session");
const hasSession = typeof session === "string" && /^[0-9a-f]{32}$/.test(session);
let account = null;
/** The exact text PAM checks, as the VM built it (a session); typed fields are the fallback. */
let sessionMessage = null;

function status(text, kind = "") {
  $("status").textContent = text;
  $("status").className = kind;
}

function showSignature(signature, why) {
  $("signature").value = signature;
  $("manual").hidden = false;
  status(`${why}\nCopy the signature below and paste it at the SSH prompt.`, "error");
}

async function loadSession() {
  if (!hasSession) return;
  const res = await fetch(`/auth/pending/${session}`, { cache: "no-store" });
  if (!res.ok) {
    status("This login code has expired or was already used. Start the SSH login again.", "error");
    return;
  }
  const s = await res.json();
  $("code").value = s.otp;
  $("machine").value = s.machine_id;
  $("expires").value = s.expires ?? "";
  sessionMessage = typeof s.message === "string" ? s.message : null;
  for (const id of ["code", "machine", "expires"]) $(id).readOnly = true;
}

async function connect() {
  if (!window.ethereum) {
    status("No wallet found in this browser. Install a wallet extension (e.g. MetaMask) and reload.", "error");
    return;
  }
  try {
    const accounts = await window.ethereum.request({ method: "eth_requestAccounts" });
    account = accounts[0];
    $("account").textContent = `Wallet: ${account}`;
    $("account").hidden = false;
    $("sign").disabled = false;
    status("Wallet connected. Press Sign.");
  } catch (e) {
    status(`The wallet did not connect: ${e?.message ? e.message : e}`, "error");
  }
}

function toHex(text) {
  return `0x${Array.from(new TextEncoder().encode(text), (b) => b.toString(16).padStart(2, "0")).join("")}`;
}

async function sign() {
  const code = $("code").value.trim();
  const machine = $("machine").value.trim();
  const expires = $("expires").value.trim();
  const valid =
    /^\d{4,19}$/.test(code) &&
    /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(machine) &&
    /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/.test(expires);
  if (!sessionMessage && !valid) {
    status("Enter the machine, the code and the expiry exactly as the SSH session shows them.", "error");
    return;
  }
  // The same wording as src/vmauth/otp.ts vmLoginMessage (the session's own text when there is one).
  const message = sessionMessage ?? `Authenticate to ${machine} with code: ${code}\nExpires: ${expires}`;
  let signature;
  try {
    signature = await window.ethereum.request({ method: "personal_sign", params: [toHex(message), account] });
  } catch (e) {
    status(`Signing was cancelled or failed: ${e?.message ? e.message : e}`, "error");
    return;
  }
  if (!hasSession) {
    showSignature(signature, "Signed.");
    return;
  }
  let res;
  try {
    res = await fetch(`/auth/callback/${session}`, {
      method: "POST",
      body: signature,
      headers: { "content-type": "text/plain" },
    });
  } catch (e) {
    showSignature(signature, `Could not send the signature (${e.message}).`);
    return;
  }
  if (!res.ok) {
    showSignature(signature, `Could not send the signature (the server answered ${res.status}).`);
    return;
  }
  $("sign").disabled = true;
  status("Signed. Go back to your terminal and press Enter.", "ok");
}

$("connect").addEventListener("click", connect);
$("sign").addEventListener("click", sign);
loadSession().catch((e) => status(`Could not load the login code: ${e.message}`, "error"));
