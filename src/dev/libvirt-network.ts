/** An isolated libvirt network (no forwarding, DHCP or DNS) for the demo and the VM tests, defined with virsh. */
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { BlockhostError } from "../core/errors.ts";

export const virsh = (...args: string[]) =>
  Bun.spawnSync(["/usr/bin/virsh", "-q", "-c", "qemu:///system", ...args], { stdout: "pipe", stderr: "pipe" });

/**
 * Define and start network `name` on `bridge` with the gateways as the host's addresses (a network
 * of that name left by an earlier run is dropped first); `stop` drops it. The XML is kept at `xmlPath`.
 */
export function startIsolatedNetwork(o: {
  name: string;
  bridge: string;
  gateway4: string;
  gateway6?: string;
  xmlPath: string;
}): { stop: () => void } {
  const drop = () => {
    virsh("net-destroy", o.name);
    virsh("net-undefine", o.name);
  };
  drop();
  // libvirt writes <bridge>.macs there for every network, even without dnsmasq; the package does not create it.
  mkdirSync("/var/lib/libvirt/dnsmasq", { recursive: true, mode: 0o755 });
  const ipv6 = o.gateway6 ? `<ip family='ipv6' address='${o.gateway6}' prefix='120'/>` : "";
  mkdirSync(dirname(o.xmlPath), { recursive: true });
  writeFileSync(
    o.xmlPath,
    `<network><name>${o.name}</name><bridge name='${o.bridge}' stp='off' delay='0'/><dns enable='no'/>` +
      `<ip address='${o.gateway4}' netmask='255.255.255.0'/>${ipv6}</network>\n`,
  );
  for (const args of [
    ["net-define", o.xmlPath],
    ["net-start", o.name],
  ]) {
    const r = virsh(...args);
    if (r.exitCode !== 0) {
      drop();
      throw new BlockhostError("E_COMMAND_FAILED", `virsh ${args[0]}: ${r.stderr.toString().trim()}`);
    }
  }
  return {
    stop: () => {
      drop();
      rmSync(o.xmlPath, { force: true });
    },
  };
}
