/** Showing a server's connection details: a copyable ssh line and the login steps. */
import { decryptWithSignature, utf8 } from "../../../crypto/symmetric.ts";
import { make } from "./page.ts";

export interface Details {
  hostname: string;
  port: number;
  username: string;
}

/** The details sealed in an NFT payload, opened with the holder's signature; null when they do not open. */
export function openPayload(payload: string, signature: string): Details | null {
  if (payload === "0x") return null;
  try {
    const d = JSON.parse(utf8(decryptWithSignature(signature, payload))) as Details;
    return typeof d.hostname === "string" && typeof d.username === "string" ? d : null;
  } catch {
    return null;
  }
}

export function sshCommand(d: Details): string {
  return `ssh ${d.port && d.port !== 22 ? `-p ${d.port} ` : ""}${d.username}@${d.hostname}`;
}

export function renderDetails(into: HTMLElement, d: Details): void {
  into.replaceChildren();
  const line = make("p", "Connect with: ");
  const cmd = make("code", sshCommand(d), { class: "ssh-command" });
  const copy = make("button", "Copy", { type: "button", class: "secondary", "aria-label": "Copy the ssh command" });
  copy.addEventListener("click", () => {
    void navigator.clipboard?.writeText(cmd.textContent ?? "").then(
      () => {
        copy.textContent = "Copied";
      },
      () => {
        copy.textContent = "Select and copy";
      },
    );
  });
  line.append(cmd, " ", copy);
  const steps = make("ol");
  steps.append(
    make("li", "Run the command. The server prints a one-time code and a link."),
    make("li", "Open the link and sign the code with the wallet that holds this server's NFT."),
    make("li", "Back in the terminal, press Enter: you are logged in."),
  );
  into.append(line, steps);
}
