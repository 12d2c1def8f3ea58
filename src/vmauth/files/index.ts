/**
 * The files a customer VM needs for wallet login, embedded as text so the provisioner's
 * cloud-init can write them: `path` is where each goes inside the VM.
 */
import pamSshd from "./sshd.pam" with { type: "text" };
import pamLogin from "./login.pam" with { type: "text" };
import sshdDropIn from "./web3-only.conf" with { type: "text" };
import signingPageUnit from "./blockhost-signing-page.service" with { type: "text" };
import tmpfiles from "./blockhost-pam.tmpfiles.conf" with { type: "text" };
import pageHtml from "./signing-page.html" with { type: "text" };
import pageScript from "./signing-page.client.js" with { type: "text" };

/** Where the blockhost binary lives inside a VM (the PAM stack and the unit name it). */
export const VM_BINARY_PATH = "/usr/local/bin/blockhost";

export interface VmFile {
  path: string;
  mode: number;
  content: string;
}

/** Every VM-side file for wallet login, in install order. */
export const VM_AUTH_FILES: readonly VmFile[] = [
  { path: "/etc/pam.d/sshd", mode: 0o644, content: pamSshd },
  // The serial console (getty → login) asks for the same wallet signature as SSH.
  { path: "/etc/pam.d/login", mode: 0o644, content: pamLogin },
  { path: "/etc/ssh/sshd_config.d/web3-only.conf", mode: 0o644, content: sshdDropIn },
  { path: "/etc/systemd/system/blockhost-signing-page.service", mode: 0o644, content: signingPageUnit },
  { path: "/usr/lib/tmpfiles.d/blockhost-pam.conf", mode: 0o644, content: tmpfiles },
];

/** The signing page's HTML and script, served by `blockhost signing-page`. */
export const SIGNING_PAGE_HTML: string = pageHtml as unknown as string;
export const SIGNING_PAGE_SCRIPT: string = pageScript;
