/** `blockhost dev` on a real hypervisor: the template, an isolated libvirt network, and the customer's wallet SSH login. */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { PrivateKeyAccount } from "viem/accounts";
import { BlockhostError } from "../core/errors.ts";
import { paths } from "../core/paths.ts";
import { cachedTemplate, installTemplate } from "../template/cache.ts";
import { defaultGuestBinary } from "../template/defaults.ts";
import { processAlive } from "../core/process.ts";
import type { DemoLifetime } from "./lifetime.ts";
import { startIsolatedNetwork, virsh } from "./libvirt-network.ts";
import { buildTemplateInChild } from "./template-child.ts";
import type { DevBackend } from "./setup-file.ts";

const CACHE = "/var/tmp/blockhost-dev";
/** Each demo's network and bridge carry its pid (bridge names are at most 15 characters): two demos never share one. */
const NETWORK_PREFIX = "blockhost-dev-";
const BRIDGE_PREFIX = "bhdev";
/** The demo's VM subnet is 10.216.N.0/24 with the first N no other network of this host uses. */
const SUBNET_BASE = "10.216";

/** Root, with a libvirt daemon answering on qemu:///system: the demo then runs real VMs. */
export function libvirtReachable(): boolean {
  return (
    process.getuid?.() === 0 &&
    existsSync("/run/libvirt/libvirt-sock") &&
    existsSync("/usr/bin/virsh") &&
    virsh("version").exitCode === 0
  );
}

export interface DemoNetwork {
  name: string;
  bridge: string;
  subnet: { network: string; gateway: string };
}

/**
 * Put the template (built once per guest binary, cached under /var/tmp/blockhost-dev) into this root's
 * libvirt storage and start this demo's own isolated network. Everything is registered with `lifetime`
 * as it is made, so a demo stopped at any point (the template build included) leaves nothing behind.
 */
export async function prepareLibvirt(
  say: (l: string) => void,
  lifetime: DemoLifetime,
): Promise<{ backend: DevBackend; network: DemoNetwork }> {
  const tpl = await cachedTemplate({
    cacheDir: CACHE,
    binary: defaultGuestBinary(),
    say: (l) => say(`template  ${l}`),
    build: (output, rootfsCache) =>
      buildTemplateInChild(lifetime, {
        output,
        binary: defaultGuestBinary(),
        rootfsCache,
        say: (l) => say(`template  ${l}`),
      }),
  });
  installTemplate(paths.root, paths.templatesDir, tpl.image);
  dropAbandonedNetworks();
  const network = await startDemoNetwork(lifetime);
  return {
    backend: {
      backend: { libvirt: { bridge: network.bridge, network: network.name, accel: "auto" } },
      ...network.subnet,
    },
    network,
  };
}

/**
 * The network of demo `id` (its pid) on the first free 10.216.N.0/24 (a subnet another network holds makes
 * net-start fail), undefined when `lifetime` stops. Its XML is kept in `dir`.
 */
export async function startDemoNetwork(
  lifetime: DemoLifetime,
  id = process.pid,
  dir = paths.root,
): Promise<DemoNetwork> {
  const name = `${NETWORK_PREFIX}${id}`;
  const bridge = `${BRIDGE_PREFIX}${id}`;
  const first = id % 200;
  let last: unknown;
  for (let i = 0; i < 56; i++) {
    const n = (first + i) % 256;
    const subnet = { network: `${SUBNET_BASE}.${n}.0/24`, gateway: `${SUBNET_BASE}.${n}.1` };
    try {
      const net = startIsolatedNetwork({
        name,
        bridge,
        gateway4: subnet.gateway,
        xmlPath: join(dir, "dev-network.xml"),
      });
      await lifetime.add(`undefine the libvirt network ${name}`, net.stop);
      return { name, bridge, subnet };
    } catch (e) {
      last = e;
    }
  }
  throw last;
}

/** Networks of demos that were killed outright (their pid is gone): nothing else would ever undefine them. */
function dropAbandonedNetworks(): void {
  const names = virsh("net-list", "--all", "--name").stdout.toString().split("\n");
  for (const n of names.map((x) => x.trim())) {
    const pid = Number(n.startsWith(NETWORK_PREFIX) ? n.slice(NETWORK_PREFIX.length) : Number.NaN);
    if (Number.isSafeInteger(pid) && pid > 0 && !processAlive(pid)) {
      virsh("net-destroy", n);
      virsh("net-undefine", n);
    }
  }
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
