/** The Proxmox backend through the real agent and the qm simulator. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runBlockhost } from "../../helpers/binary.ts";
import {
  PROXMOX_TEMPLATE_CONFIG,
  TEMPLATE_VMID,
  canCreateNetns,
  startProxmoxHost,
  type ProxmoxHost,
} from "../../helpers/proxmox-host.ts";
import { provisionRoot } from "../../helpers/provision-root.ts";

const WALLET = "0x3333333333333333333333333333333333333333";
const TEMPLATE_VMID_13 = 9002;
const usable = canCreateNetns();
if (!usable) console.log("skip: proxmox backend tests need root and iproute2 network namespaces");

let env: { root: string; cleanup: () => void };
let host: ProxmoxHost;
const bh = (args: string[]) => runBlockhost(args, { root: env.root });
/** The agent's nftables bridge table in the simulated host's namespace. */
const guardTable = () =>
  Bun.spawnSync([
    "/usr/sbin/ip",
    "netns",
    "exec",
    host.netns,
    "/usr/sbin/nft",
    "list",
    "table",
    "bridge",
    "blockhost_guard",
  ]).stdout.toString();

describe.skipIf(!usable)("proxmox backend through the real agent and the qm simulator", () => {
  beforeAll(async () => {
    env = provisionRoot({
      backend: "proxmox",
      ipv6Prefix: "2001:db8:42::/120",
      extraBlockhostYaml:
        "proxmox: {node: pve, storage: local-lvm, bridge: vmbr0, template_vmid: 9001, snippet_storage: snip_dir, template_vmids: {debian-13: 9002}}\nos: [debian-12, debian-13]",
    });
    // A Proxmox storage.cfg with a separate directory storage for snippets (proxmox.snippet_storage).
    mkdirSync(join(env.root, "etc/pve"), { recursive: true });
    writeFileSync(
      join(env.root, "etc/pve/storage.cfg"),
      "dir: local\n\tpath /var/lib/vz\n\tcontent iso,backup\n\ndir: snip_dir\n\tpath /srv/pve-snippets\n\tcontent snippets\n",
    );
    host = await startProxmoxHost(env.root);
    host.sim.addVm({
      vmid: TEMPLATE_VMID_13,
      name: "debian-13-template",
      template: true,
      config: { ...PROXMOX_TEMPLATE_CONFIG, scsi0: "local-lvm:base-9002-disk-0,size=4G" },
    });
  });
  afterAll(async () => {
    await host?.stop();
    env?.cleanup();
  });

  test("create clones the template, configures, enables the firewall filters, resizes, starts, routes and isolates", async () => {
    const r = await bh([
      "vm",
      "create",
      "web-1",
      "--owner-wallet",
      WALLET,
      "--cpu",
      "2",
      "--memory",
      "1024",
      "--disk",
      "12",
      "--apply",
    ]);
    expect(r.stderr).not.toContain("rolling back");
    expect(r.code).toBe(0);
    const vm = host.sim.vm(100)!;
    expect(vm).toMatchObject({ name: "web-1", status: "running" });
    expect(vm.config).toMatchObject({
      cores: "2",
      memory: "1024",
      ipconfig0: "ip=192.168.122.200/24,gw=192.168.122.1,ip6=2001:db8:42::3/128,gw6=2001:db8:42::1",
      cicustom: "user=snip_dir:snippets/blockhost-web-1.yaml,meta=snip_dir:snippets/blockhost-web-1.meta",
      // lvmthin's linked clone is a thin snapshot named like any VM disk (LvmThinPlugin clone_image).
      scsi0: "local-lvm:vm-100-disk-0,size=12G",
    });
    expect(host.sim.calls()).toContainEqual(["resize", "100", "scsi0", "12G"]);
    // Anti-spoofing: net0 keeps the clone's MAC and bridge and gains the PVE firewall; the VM's firewall
    // file turns on the MAC and IP filters with exactly its addresses.
    expect(vm.config.net0).toMatch(/^virtio=BC:24:11:[0-9A-F:]{8},bridge=vmbr0,firewall=1$/);
    expect(readFileSync(join(env.root, "etc/pve/firewall/100.fw"), "utf8")).toEndWith(
      [
        "[OPTIONS]",
        "enable: 1",
        "macfilter: 1",
        "ipfilter: 1",
        "ndp: 1",
        "dhcp: 0",
        "policy_in: ACCEPT",
        "policy_out: ACCEPT",
        "",
        "[IPSET ipfilter-net0]",
        "192.168.122.200",
        "2001:db8:42::3",
        "",
      ].join("\n"),
    );
    // And the agent's bridge rules on the tap, which also check neighbour advertisement targets.
    const mac = /virtio=([0-9A-F:]{17})/.exec(vm.config.net0 ?? "")![1]!.toLowerCase();
    expect(guardTable()).toContain('"tap100i0" : jump from_tap100i0');
    expect(guardTable()).toContain(`ether saddr != ${mac} drop`);
    // The instance-id is pinned: Proxmox's own hash would change with the host's DNS search domain.
    expect(readFileSync(join(env.root, "srv/pve-snippets/snippets/blockhost-web-1.meta"), "utf8")).toBe(
      "instance-id: blockhost-100\nlocal-hostname: web-1\n",
    );
    expect(existsSync(join(env.root, "var/lib/vz/snippets/blockhost-web-1.yaml"))).toBe(false);
    const snippet = readFileSync(join(env.root, "srv/pve-snippets/snippets/blockhost-web-1.yaml"), "utf8");
    expect(snippet).toContain(`gecos: wallet=${WALLET}`);
    expect(snippet).toContain("AuthenticationMethods keyboard-interactive");
    expect(host.ip("-6", "route", "show", "dev", "vmbr0")).toContain("2001:db8:42::3");
    expect(
      Bun.spawnSync(["/usr/sbin/bridge", "-n", host.netns, "-d", "link", "show", "dev", "tap100i0"]).stdout.toString(),
    ).toContain("isolated on");
    const status = async () => JSON.parse((await bh(["vm", "status", "web-1", "--json"])).stdout);
    expect(await status()).toMatchObject({ status: "active", power: "running", power_note: null });
    // Stopped by hand: the subscription is still active, the hypervisor says stopped, and status says both.
    expect((await bh(["vm", "stop", "web-1"])).code).toBe(0);
    expect(await status()).toMatchObject({ status: "active", power: "stopped" });
    expect((await bh(["vm", "status", "web-1"])).stdout).toBe("active, hypervisor: stopped\n");
    expect((await bh(["vm", "start", "web-1"])).code).toBe(0);
    expect(await status()).toMatchObject({ status: "active", power: "running" });
  });

  test("a failure mid-create rolls every step back", async () => {
    host.sim.failNext("start", "simulated: start failed");
    const r = await bh(["vm", "create", "web-2", "--owner-wallet", WALLET, "--apply"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("simulated: start failed");
    expect(host.sim.vm(101)).toBeUndefined();
    expect(existsSync(join(env.root, "srv/pve-snippets/snippets/blockhost-web-2.yaml"))).toBe(false);
    expect(existsSync(join(env.root, "etc/pve/firewall/101.fw"))).toBe(false);
    expect((await bh(["vm", "status", "web-2"])).code).toBe(1);
    const again = await bh(["vm", "create", "web-2", "--owner-wallet", WALLET, "--apply"]);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('"vmid":102');
    expect(again.stdout).toContain('"ip":"192.168.122.201"');
  });

  test("stop, start, reboot, reinstall, kill, suspended start and destroy reach the simulator as jobs; destroy removes the route and firewall file", async () => {
    expect((await bh(["vm", "stop", "web-1"])).code).toBe(0);
    expect(host.sim.vm(100)!.status).toBe("stopped");
    // qm reboot refuses a VM that is not running; the job is dead with qm's words.
    const refused = await bh(["vm", "reboot", "web-1"]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("VM 100 not running");
    expect((await bh(["vm", "start", "web-1"])).code).toBe(0);
    expect(host.sim.vm(100)!.status).toBe("running");
    expect((await bh(["vm", "reboot", "web-1"])).code).toBe(0);
    expect(host.sim.calls()).toContainEqual(["reboot", "100", "--timeout", "300"]);
    expect(host.sim.vm(100)!.status).toBe("running");

    // Reinstall to Debian 13: the same VMID, addresses and route; a clone of the other template; a new instance-id.
    const before = host.sim.vm(100)!.config;
    const r = await bh(["vm", "reinstall", "web-1", "--os", "debian-13"]);
    expect(r.stderr).not.toContain("rolling back");
    expect({
      out: r.stdout,
      err: r.stderr
        .split("\n")
        .filter((l) => !l.startsWith("{"))
        .join("\n"),
    }).toEqual({
      out: "reinstalled: web-1 (debian-13)\n",
      err: expect.any(String),
    });
    const after = host.sim.vm(100)!;
    expect(after.status).toBe("running");
    expect(after.config.scsi0).toBe("local-lvm:vm-100-disk-0,size=12G");
    expect(after.config.ipconfig0).toBe(before.ipconfig0);
    expect(host.sim.calls()).toContainEqual(["clone", "9002", "100", "--name", "web-1"]);
    const meta = readFileSync(join(env.root, "srv/pve-snippets/snippets/blockhost-web-1.meta"), "utf8");
    expect(meta).toMatch(/^instance-id: web-1-100-r[0-9a-z]+\nlocal-hostname: web-1\n$/);
    expect(host.ip("-6", "route", "show", "dev", "vmbr0")).toContain("2001:db8:42::3");
    const listed = JSON.parse((await bh(["vm", "list", "--json"])).stdout) as Array<Record<string, unknown>>;
    expect(listed.find((v) => v.vm_name === "web-1")).toMatchObject({ ip_address: "192.168.122.200", vmid: 100 });
    const unknown = await bh(["vm", "reinstall", "web-1", "--os", "arch-2026"]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('OS "arch-2026" is not offered here (choose one of debian-12, debian-13)');

    expect((await bh(["vm", "kill", "web-1"])).code).toBe(0);
    expect(host.sim.vm(100)!.status).toBe("stopped");

    // Expired: gc suspends it, and start is refused (the customer must extend) while the VM stays stopped.
    expect((await bh(["vm", "start", "web-1"])).code).toBe(0);
    const expiry = Date.parse(String(listed.find((v) => v.vm_name === "web-1")!.expires_at)) / 1000;
    const gc = await runBlockhost(["gc", "--execute"], {
      root: env.root,
      env: { BLOCKHOST_NOW: String(expiry + 3600) },
    });
    expect(gc.stdout).toContain("suspended web-1");
    expect(host.sim.vm(100)!.status).toBe("stopped");
    const suspended = await bh(["vm", "start", "web-1"]);
    expect(suspended.code).not.toBe(0);
    expect(suspended.stderr).toContain("web-1 is suspended since its subscription expired");
    expect(host.sim.vm(100)!.status).toBe("stopped");
    expect((await bh(["vm", "destroy", "web-1"])).code).toBe(0);
    expect(host.sim.vm(100)).toBeUndefined();
    expect(existsSync(join(env.root, "srv/pve-snippets/snippets/blockhost-web-1.meta"))).toBe(false);
    expect(existsSync(join(env.root, "etc/pve/firewall/100.fw"))).toBe(false);
    expect(existsSync(join(env.root, "etc/pve/firewall/102.fw"))).toBe(true);
    expect(guardTable()).not.toContain('"tap100i0"');
    expect(guardTable()).toContain('"tap102i0" : jump from_tap102i0');
    expect(host.ip("-6", "route", "show", "dev", "vmbr0")).not.toContain("2001:db8:42::3 ");
    expect((await bh(["vm", "destroy", "web-1"])).stdout).toContain("already gone");
  });

  test("a resize that fails inside qm's task (exit 0, full storage) fails the create and rolls back", async () => {
    host.sim.setStorageFull(true);
    const r = await bh(["vm", "create", "web-3", "--owner-wallet", WALLET, "--disk", "20", "--apply"]);
    host.sim.setStorageFull(false);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      "qm resize 103 scsi0 20G did not take effect (scsi0 is 4G): lvextend failed: Insufficient free space",
    );
    expect(host.sim.vm(103)).toBeUndefined();
    expect((await bh(["vm", "status", "web-3"])).code).toBe(1);
  });

  test("a disk smaller than the template's is refused before a VMID is spent (Proxmox cannot shrink)", async () => {
    const clones = host.sim.calls().filter((c) => c[0] === "clone").length;
    const r = await bh(["vm", "create", "web-4", "--owner-wallet", WALLET, "--disk", "2", "--apply"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      "disk 2 GiB is smaller than template VMID 9001's scsi0 (4G); Proxmox cannot shrink disks",
    );
    expect(host.sim.calls().filter((c) => c[0] === "clone").length).toBe(clones);
  });

  test("a template without a cloud-init drive or net0 is refused with what is missing", async () => {
    const { ide2: _i, net0: _n, ...bare } = PROXMOX_TEMPLATE_CONFIG;
    host.sim.addVm({ vmid: TEMPLATE_VMID, name: "blockhost-template", template: true, config: bare });
    const r = await bh(["vm", "create", "web-5", "--owner-wallet", WALLET, "--apply"]);
    host.sim.addVm({
      vmid: TEMPLATE_VMID,
      name: "blockhost-template",
      template: true,
      config: PROXMOX_TEMPLATE_CONFIG,
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("template VMID 9001 cannot serve VMs: no cloud-init drive");
    expect(r.stderr).toContain("no net0");
    expect(host.sim.calls().filter((c) => c[0] === "clone" && c[2] !== undefined && Number(c[2]) > 103)).toEqual([]);
  });

  test("names Proxmox would refuse are refused before a VMID is allocated; so are refused templates and disks", async () => {
    for (const name of ["web_6", "web-", "web.", "a..b"]) {
      const r = await bh(["vm", "create", name, "--owner-wallet", WALLET, "--apply"]);
      expect({ name, code: r.code }).toEqual({ name, code: 2 });
      expect(r.stderr).toContain("VM name: expected a DNS name");
    }
    const next = await bh(["vm", "create", "web-6", "--owner-wallet", WALLET, "--apply"]);
    expect(next.code).toBe(0);
    expect(next.stdout).toContain('"vmid":104');
  });
});
