import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { checkProxmoxTemplate, importProxmoxTemplate } from "../../../src/provision/backends/proxmox-template.ts";
import { VM_AUTH_FILES } from "../../../src/vmauth/files/index.ts";
import { bootloaderBootSection } from "../../../src/template/bootloader.ts";
import { writeScopeConfig } from "../../helpers/scope-config.ts";
import { runBlockhost, tempDir } from "../../helpers/binary.ts";
import {
  canCreateNetns,
  IMPORTABLE_MANIFEST,
  startProxmoxHost,
  TEMPLATE_VMID,
  type ProxmoxHost,
} from "../../helpers/proxmox-host.ts";

/** Importing `blockhost template build`'s image as the Proxmox template, and the prerequisite check, through the real agent. */
const usable = canCreateNetns();
if (!usable) console.log("skip: proxmox template tests need root and iproute2 network namespaces");

const image = (root: string, name: string) => join(root, "var/lib/blockhost/images", name);
const MANIFEST: Record<string, unknown> = IMPORTABLE_MANIFEST;

describe.skipIf(!usable)("proxmox template import and prerequisite check", () => {
  let env: { dir: string; cleanup: () => void };
  let host: ProxmoxHost;
  const lines: string[] = [];
  const say = (l: string) => lines.push(l);
  const writeImage = (name: string, manifest: Record<string, unknown>) => {
    const content = Buffer.alloc(3 * 1048576 + 5, 7);
    writeFileSync(image(env.dir, name), content);
    writeFileSync(
      `${image(env.dir, name)}.json`,
      JSON.stringify({ ...manifest, sha256: createHash("sha256").update(content).digest("hex") }),
    );
    return image(env.dir, name);
  };

  /** `importProxmoxTemplate` of the image at `imagePath` as `vmid` on the simulated host's bridge. */
  const importAt = (vmid: number, imagePath: string, storage = "local-lvm") =>
    importProxmoxTemplate(host.agent.client, { vmid, imagePath, storage, bridge: "vmbr0" }, say);
  const importImage = async (name: string, manifest: Record<string, unknown>, vmid: number) => {
    const path = writeImage(name, manifest);
    await importAt(vmid, path);
    return path;
  };

  const importedProblems = (vmid: number, path: string) =>
    checkProxmoxTemplate(host.agent.client, { templateVmid: vmid, bridge: "vmbr0", manifestPath: `${path}.json` });

  beforeAll(async () => {
    env = tempDir("blockhost-pxtpl-");
    mkdirSync(join(env.dir, "var/lib/blockhost/images"), { recursive: true });
    // blockhost.yaml names template 9001; the tests import others, inside db.yaml's range.
    writeScopeConfig(env.dir, { vmidRange: { start: 100, end: 99_999 }, templateVmid: 9001 });
    host = await startProxmoxHost(env.dir);
  });
  afterAll(async () => {
    await host?.stop();
    env?.cleanup();
  });

  test("import: qm create + importdisk + scsi0/cloud-init drive + template, verified by qm config", async () => {
    const path = await importImage("template.qcow2", MANIFEST, 9100);
    const vm = host.sim.vm(9100)!;
    expect(vm.template).toBe(true);
    expect(vm.config).toMatchObject({
      scsi0: "local-lvm:base-9100-disk-0,size=4M",
      ide2: "local-lvm:vm-9100-cloudinit,media=cdrom",
      net0: "virtio,bridge=vmbr0",
      serial0: "socket",
      agent: "1",
      boot: "order=scsi0",
    });
    expect(vm.config.description).toStartWith(
      "blockhost-template manifest=1 binary=/usr/local/bin/blockhost vmauth=/etc/pam.d/sshd;",
    );
    expect(Object.keys(vm.config).filter((k) => k.startsWith("unused"))).toEqual([]);
    expect(await importedProblems(9100, path)).toEqual([]);
  });

  test("a manifest without the blockhost binary or a vmauth file is refused before anything is created", async () => {
    const path = writeImage("old.qcow2", {
      ...MANIFEST,
      blockhost_binary: "/usr/bin/bh",
      vmauth_files: ["/etc/pam.d/sshd"],
    });
    const calls = host.sim.calls().length;
    await expect(importAt(9101, path)).rejects.toMatchObject({
      code: "E_CONFIG_INVALID",
      message: `${path}.json: blockhost_binary is "/usr/bin/bh", expected "/usr/local/bin/blockhost" (the PAM stack and the signing page run it); vmauth_files lacks ${VM_AUTH_FILES.slice(
        1,
      )
        .map((f) => f.path)
        .join(", ")}`,
    });
    expect(host.sim.calls().length).toBe(calls);
  });

  test("an image that boots only by direct kernel (no bootloader) is refused: Proxmox boots from the disk", async () => {
    const path = writeImage("direct.qcow2", {
      ...MANIFEST,
      boot: {
        mode: "direct-kernel",
        kernel: "direct.qcow2.vmlinuz",
        initrd: "direct.qcow2.initrd",
        cmdline: "root=LABEL=rootfs",
      },
    });
    await expect(importAt(9104, path)).rejects.toThrow(
      'boot.mode is "direct-kernel": a Proxmox VM boots from its disk, so the image needs a bootloader',
    );
    expect(host.sim.vm(9104)).toBeUndefined();
  });

  test("the bootloader image (template build --boot bootloader) is imported and boots from scsi0", async () => {
    const path = await importImage("grub.qcow2", { ...MANIFEST, boot: bootloaderBootSection() }, 9106);
    const vm = host.sim.vm(9106)!;
    expect(vm.template).toBe(true);
    expect(vm.config).toMatchObject({ scsi0: "local-lvm:base-9106-disk-0,size=4M", boot: "order=scsi0" });
    expect(await importedProblems(9106, path)).toEqual([]);
  });

  test("an image that does not match its manifest's sha256 is refused", async () => {
    const path = writeImage("changed.qcow2", MANIFEST);
    writeFileSync(path, "tampered");
    await expect(importAt(9102, path)).rejects.toThrow("does not match its manifest");
    expect(host.sim.vm(9102)).toBeUndefined();
  });

  test("a failing import step removes the half-made VM", async () => {
    const path = writeImage("t2.qcow2", MANIFEST);
    writeFileSync(join(host.sim.stateDir, "no-storage-slow_pool"), "");
    await expect(importAt(9103, path, "slow_pool")).rejects.toThrow("storage 'slow_pool' does not exist");
    expect(host.sim.vm(9103)).toBeUndefined();
  });

  test("N2: a disk conversion that fails inside qm's task (exit 0, template: 1 written) is refused and the VM removed", async () => {
    const path = writeImage("failbase.qcow2", MANIFEST);
    host.sim.failNext("create-base", "");
    await expect(importAt(9107, path)).rejects.toThrow(
      "qm template 9107 left scsi0 on a vm- volume (local-lvm:vm-9107-disk-0), not a base volume: lvrename 'local-lvm:vm-9107-disk-0' error:   Logical volume in use.",
    );
    expect(host.sim.vm(9107)).toBeUndefined();
  });

  test("N1: a template on thick LVM (no base volumes, no linked clones) is refused at import, naming the storage", async () => {
    host.sim.setCluster({
      ...host.sim.cluster(),
      storages: [...host.sim.cluster().storages, { id: "san", type: "lvm", shared: true, maxdisk: 2 ** 40, disk: 0 }],
    });
    mkdirSync(join(env.dir, "etc/pve"), { recursive: true });
    writeFileSync(
      join(env.dir, "etc/pve/storage.cfg"),
      "lvmthin: local-lvm\n\tthinpool data\n\nlvm: san\n\tvgname san\n\tshared 1\n",
    );
    const path = writeImage("san.qcow2", MANIFEST);
    await expect(importAt(9108, path, "san")).rejects.toThrow(
      "qm template 9108 left scsi0 on a vm- volume (san:vm-9108-disk-0), not a base volume: storage 'san' (lvm) cannot hold a template's base volume",
    );
    expect(host.sim.vm(9108)).toBeUndefined();
    // A template left that way by hand is named by the check too.
    host.sim.addVm({
      vmid: 9109,
      template: true,
      config: {
        scsi0: "san:vm-9109-disk-0,size=4G",
        ide2: "san:vm-9109-cloudinit,media=cdrom",
        net0: "virtio,bridge=vmbr0",
      },
    });
    expect(await checkProxmoxTemplate(host.agent.client, { templateVmid: 9109, bridge: "vmbr0" })).toContain(
      "template VMID 9109: scsi0 on a vm- volume (san:vm-9109-disk-0), not a base volume (the conversion failed, or its storage cannot make one: put the template on lvmthin, zfspool, rbd or a directory storage)",
    );
  });

  test("the check names each missing prerequisite", async () => {
    host.sim.addVm({
      vmid: 9200,
      name: "hand-made",
      template: false,
      config: { scsi0: "local-lvm:vm-9200-disk-0,size=8G", net0: "virtio=BC:24:11:00:00:09,bridge=vmbr1" },
    });
    expect(await checkProxmoxTemplate(host.agent.client, { templateVmid: 9200, bridge: "vmbr0" })).toEqual([
      "template VMID 9200: VMID 9200 is not a template (qm template 9200)",
      "template VMID 9200: no cloud-init drive (Proxmox generates nothing without one: qm set 9200 --ide2 STORAGE:cloudinit)",
      "template VMID 9200: net0 is not on bridge vmbr0 (virtio=BC:24:11:00:00:09,bridge=vmbr1)",
      "template VMID 9200: no record of what is inside (not imported by blockhost's template import): cannot confirm /usr/local/bin/blockhost and the vmauth files are in the image",
    ]);
    expect(await checkProxmoxTemplate(host.agent.client, { templateVmid: 9300 })).toEqual([
      "template VMID 9300: qm exited 255: Configuration file 'nodes/pve/qemu-server/9300.conf' does not exist",
    ]);
    expect(await checkProxmoxTemplate(host.agent.client, { templateVmid: TEMPLATE_VMID, bridge: "vmbr0" })).toEqual([]);
  });

  test("the CLI: blockhost proxmox template import|check", async () => {
    const bh = (args: string[]) => runBlockhost(args, { root: env.dir });
    expect(await bh(["proxmox", "template", "check"])).toMatchObject({ code: 0, stdout: "template 9001 ready\n" });
    const bad = await bh(["proxmox", "template", "check", "--vmid", "9200"]);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toContain("template VMID 9200: no cloud-init drive");
    expect(bad.stderr).toContain("template VMID 9200 is not ready (4 problems)");
    const json = await bh(["proxmox", "template", "check", "--vmid", "9200", "--json"]);
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toEqual({
      template_vmid: 9200,
      ready: false,
      problems: bad.stdout.trimEnd().split("\n"),
    });
    expect(JSON.parse((await bh(["proxmox", "template", "check", "--json"])).stdout)).toEqual({
      template_vmid: 9001,
      ready: true,
      problems: [],
    });
    const path = writeImage("cli.qcow2", MANIFEST);
    expect(await bh(["proxmox", "template", "import", path, "--vmid", "9105"])).toMatchObject({
      code: 0,
      stdout: "template 9105 ready\n",
    });
    expect(await bh(["proxmox", "template", "check", "--vmid", "9105", "--manifest", `${path}.json`])).toMatchObject({
      code: 0,
    });
    expect((await bh(["proxmox", "template", "check", "--vmid", "x"])).code).toBe(2);
  });

  test("blockhost doctor asks the hypervisor, through the agent, for the configured template", async () => {
    const backendCheck = async () => {
      const r = await runBlockhost(["doctor", "--json"], { root: env.dir });
      const checks = JSON.parse(r.stdout).checks as Array<{ name: string; status: string; detail: string }>;
      return checks.find((c) => c.name === "backend")!;
    };
    expect(await backendCheck()).toMatchObject({ status: "ok", detail: "proxmox: template VMID 9001 ready" });
    const file = join(env.dir, "etc/blockhost/blockhost.yaml");
    const good = readFileSync(file, "utf8");
    writeFileSync(file, good.replace("template_vmid: 9001", "template_vmid: 9200"));
    try {
      const bad = await backendCheck();
      expect(bad.status).toBe("fail");
      expect(bad.detail).toContain("template VMID 9200: no cloud-init drive");
    } finally {
      writeFileSync(file, good);
    }
  });
});
