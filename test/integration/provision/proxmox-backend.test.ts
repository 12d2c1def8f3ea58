/** The Proxmox backend through the real agent and the qm simulator. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { runBlockhost } from "../../helpers/binary.ts";
import { canCreateNetns, startProxmoxHost, type ProxmoxHost } from "../../helpers/proxmox-host.ts";
import { provisionRoot } from "../../helpers/provision-root.ts";

const WALLET = "0x3333333333333333333333333333333333333333";
const usable = canCreateNetns();
if (!usable) console.log("skip: proxmox backend tests need root and iproute2 network namespaces");

let env: { root: string; cleanup: () => void };
let host: ProxmoxHost;
const bh = (args: string[]) => runBlockhost(args, { root: env.root });

describe.skipIf(!usable)("proxmox backend through the real agent and the qm simulator", () => {
  beforeAll(async () => {
    env = provisionRoot({ backend: "proxmox", ipv6Prefix: "2001:db8:42::/120", extraBlockhostYaml: "proxmox: {node: pve, storage: local-lvm, bridge: vmbr0, template_vmid: 9001}" });
    host = await startProxmoxHost(env.root);
  });
  afterAll(async () => {
    await host?.stop();
    env?.cleanup();
  });

  test("create clones the template, configures, resizes, starts, routes and isolates", async () => {
    const r = await bh(["vm", "create", "web-1", "--owner-wallet", WALLET, "--cpu", "2", "--memory", "1024", "--disk", "12", "--apply"]);
    expect(r.stderr).not.toContain("rolling back");
    expect(r.code).toBe(0);
    const vm = host.sim.vm(100)!;
    expect(vm).toMatchObject({ name: "web-1", status: "running" });
    expect(vm.config).toMatchObject({ cores: "2", memory: "1024", ipconfig0: "ip=192.168.122.200/24,gw=192.168.122.1,ip6=2001:db8:42::3/128,gw6=2001:db8:42::1", cicustom: "user=local:snippets/blockhost-web-1.yaml" });
    expect(host.sim.calls()).toContainEqual(["resize", "100", "scsi0", "12G"]);
    const snippet = readFileSync(join(env.root, "var/lib/vz/snippets/blockhost-web-1.yaml"), "utf8");
    expect(snippet).toContain(`gecos: wallet=${WALLET}`);
    expect(snippet).toContain("AuthenticationMethods keyboard-interactive");
    expect(host.ip("-6", "route", "show", "dev", "vmbr0")).toContain("2001:db8:42::3");
    expect(Bun.spawnSync(["/usr/sbin/bridge", "-n", host.netns, "-d", "link", "show", "dev", "tap100i0"]).stdout.toString()).toContain("isolated on");
    expect((await bh(["vm", "status", "web-1"])).stdout).toBe("active\n");
  });

  test("a failure mid-create rolls every step back", async () => {
    host.sim.failNext("start", "simulated: start failed");
    const r = await bh(["vm", "create", "web-2", "--owner-wallet", WALLET, "--apply"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("simulated: start failed");
    expect(host.sim.vm(101)).toBeUndefined();
    expect(existsSync(join(env.root, "var/lib/vz/snippets/blockhost-web-2.yaml"))).toBe(false);
    expect((await bh(["vm", "status", "web-2"])).stdout).toBe("unknown\n");
    const again = await bh(["vm", "create", "web-2", "--owner-wallet", WALLET, "--apply"]);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('"vmid":102');
    expect(again.stdout).toContain('"ip":"192.168.122.201"');
  });

  test("stop, start, kill, gc suspend and destroy reach the simulator; destroy removes the route", async () => {
    expect((await bh(["vm", "stop", "web-1"])).code).toBe(0);
    expect(host.sim.vm(100)!.status).toBe("stopped");
    expect((await bh(["vm", "start", "web-1"])).code).toBe(0);
    expect(host.sim.vm(100)!.status).toBe("running");
    expect((await bh(["vm", "kill", "web-1"])).code).toBe(0);
    expect(host.sim.vm(100)!.status).toBe("stopped");
    expect((await bh(["vm", "destroy", "web-1"])).code).toBe(0);
    expect(host.sim.vm(100)).toBeUndefined();
    expect(host.ip("-6", "route", "show", "dev", "vmbr0")).not.toContain("2001:db8:42::3 ");
    expect((await bh(["vm", "destroy", "web-1"])).stdout).toContain("already gone");
  });
});
