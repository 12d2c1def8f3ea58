/** `blockhost dev` on a real hypervisor: the template, an isolated libvirt network, and the customer's wallet SSH login. */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { PrivateKeyAccount } from "viem/accounts";
import { BlockhostError } from "../core/errors.ts";
import { paths } from "../core/paths.ts";
import { cachedTemplate, installTemplate } from "../template/cache.ts";
import { defaultGuestBinary } from "../template/command.ts";
import { startIsolatedNetwork, virsh } from "./libvirt-network.ts";
import type { DevBackend } from "./setup-file.ts";

const CACHE = "/var/tmp/blockhost-dev";
const NETWORK = "blockhost-dev";
const BRIDGE = "bhdev0";
/** The demo's VM subnet: an isolated libvirt network (no forwarding, no DHCP, no DNS). */
export const DEV_SUBNET = { network: "10.216.0.0/24", gateway: "10.216.0.1" };

/** Root, with a libvirt daemon answering on qemu:///system: the demo then runs real VMs. */
export function libvirtReachable(): boolean {
  return (
    process.getuid?.() === 0 &&
    existsSync("/run/libvirt/libvirt-sock") &&
    existsSync("/usr/bin/virsh") &&
    virsh("version").exitCode === 0
  );
}

/**
 * Put the template (built once per guest binary, cached under /var/tmp/blockhost-dev) into this
 * root's libvirt storage and start the demo network. Returns the setup file's backend (for finalize).
 */
export async function prepareLibvirt(say: (l: string) => void): Promise<{ backend: DevBackend; stop: () => void }> {
  const tpl = await cachedTemplate({
    cacheDir: CACHE,
    binary: defaultGuestBinary(),
    say: (l) => say(`template  ${l}`),
  });
  installTemplate(paths.root, paths.templatesDir, tpl.image);
  const network = startIsolatedNetwork({
    name: NETWORK,
    bridge: BRIDGE,
    gateway4: DEV_SUBNET.gateway,
    xmlPath: join(paths.root, "dev-network.xml"),
  });
  return {
    backend: { backend: { libvirt: { bridge: BRIDGE, network: NETWORK, accel: "auto" } }, ...DEV_SUBNET },
    stop: network.stop,
  };
}

/**
 * Log in as the customer with the stock OpenSSH client: keyboard-interactive, the prompt (with the
 * code) handed to an askpass script that passes it here through files in a private directory; we
 * answer with the wallet's EIP-191 signature of the code. Retries while the VM is still booting.
 */
export async function customerSshLogin(
  host: string,
  username: string,
  wallet: PrivateKeyAccount,
  deadlineMs: number,
): Promise<string> {
  const dir = join(paths.root, "run/dev-askpass");
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const askpass = join(dir, "askpass.sh");
  writeFileSync(
    askpass,
    `#!/bin/sh\nprintf '%s' "$1" > '${dir}/prompt.tmp' && mv '${dir}/prompt.tmp' '${dir}/prompt'\nfor i in $(seq 300); do [ -f '${dir}/answer' ] && { cat '${dir}/answer'; rm -f '${dir}/answer'; exit 0; }; sleep 0.2; done\nexit 1\n`,
    { mode: 0o700 },
  );
  let last = "";
  while (Date.now() < deadlineMs) {
    rmSync(join(dir, "prompt"), { force: true });
    const ssh = Bun.spawn(
      [
        "/usr/bin/ssh",
        "-F",
        "/dev/null",
        "-o",
        "StrictHostKeyChecking=no",
        "-o",
        "UserKnownHostsFile=/dev/null",
        "-o",
        "LogLevel=ERROR",
        "-o",
        "PreferredAuthentications=keyboard-interactive",
        "-o",
        "NumberOfPasswordPrompts=1",
        "-o",
        "ConnectTimeout=5",
        `${username}@${host}`,
        "id",
      ],
      {
        env: { PATH: "/usr/bin:/bin", SSH_ASKPASS: askpass, SSH_ASKPASS_REQUIRE: "force", DISPLAY: ":0" },
        stdin: "ignore",
        stdout: "pipe",
        stderr: "pipe",
      },
    );
    const answering = (async () => {
      while (ssh.exitCode === null) {
        if (existsSync(join(dir, "prompt"))) {
          const prompt = readFileSync(join(dir, "prompt"), "utf8");
          rmSync(join(dir, "prompt"), { force: true });
          const message = /Message:\s+"([^"]+)"/.exec(prompt)?.[1];
          writeFileSync(join(dir, "answer"), message ? await wallet.signMessage({ message }) : "", { mode: 0o600 });
        }
        await Bun.sleep(100);
      }
    })();
    const [out, err, code] = await Promise.all([
      new Response(ssh.stdout).text(),
      new Response(ssh.stderr).text(),
      ssh.exited,
    ]);
    await answering;
    if (code === 0) return out.trim();
    last = err.trim().split("\n").at(-1) ?? `ssh exited ${code}`;
    await Bun.sleep(3000);
  }
  throw new BlockhostError("E_TIMEOUT", `no SSH login to ${host} before the deadline (${last})`);
}
