/** Agent qm actions against the qm simulator. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { DEFAULT_BINARIES } from "../../../src/agent/binaries.ts";
import { createRunner } from "../../../src/agent/run.ts";
import { actionRunner } from "../../helpers/action-context.ts";
import { tempDir } from "../../helpers/binary.ts";
import { createQmSimulator, type QmSimulator } from "../../helpers/qm-simulator.ts";
import { writeScopeConfig } from "../../helpers/scope-config.ts";

/** The qm-* actions against the Proxmox qm simulator: the argv they run and the state they leave. */
let sim: QmSimulator;
let act: ReturnType<typeof actionRunner>;
const { dir: root, cleanup } = tempDir("blockhost-qm-");
const previousRoot = process.env.BLOCKHOST_ROOT;

beforeAll(() => {
  process.env.BLOCKHOST_ROOT = root;
  writeScopeConfig(root, { vmidRange: { start: 100, end: 4999 }, templateVmid: 9000 });
  sim = createQmSimulator();
  act = actionRunner({ qm: sim.qmPath });
});
afterAll(() => {
  sim.cleanup();
  cleanup();
  if (previousRoot === undefined) delete process.env.BLOCKHOST_ROOT;
  else process.env.BLOCKHOST_ROOT = previousRoot;
});

const lastCall = () => sim.calls().at(-1);

describe("template to running VM to destroyed", () => {
  test("qm-create makes a VM with the given options", async () => {
    await act("qm-create", {
      vmid: 9000,
      name: "debian-12",
      args: {
        memory: 1024,
        cores: 1,
        scsi0: "local-lvm:vm-9000-disk-0,size=10G",
        agent: "1",
        ide2: "local-lvm:cloudinit",
      },
    });
    expect(lastCall()).toEqual([
      "create",
      "9000",
      "--name",
      "debian-12",
      "--agent",
      "1",
      "--cores",
      "1",
      "--ide2",
      "local-lvm:cloudinit",
      "--memory",
      "1024",
      "--scsi0",
      "local-lvm:vm-9000-disk-0,size=10G",
    ]);
    expect(sim.vm(9000)).toMatchObject({ name: "debian-12", status: "stopped", config: { memory: "1024" } });
  });

  test("qm-importdisk imports a confined image", async () => {
    const image = join(root, "var/lib/blockhost/images/debian.qcow2");
    mkdirSync(join(root, "var/lib/blockhost/images"), { recursive: true });
    writeFileSync(image, "qcow");
    const r = await act("qm-importdisk", { vmid: 9000, disk_path: image, storage: "local-lvm" });
    expect(String(r.output)).toBe("unused0: successfully imported disk 'local-lvm:vm-9000-disk-1'");
    // qm read a private copy in the agent's root-only staging directory; the client's file stays as it was.
    expect(lastCall()).toEqual([
      "importdisk",
      "9000",
      expect.stringMatching(new RegExp(`^${join(root, "var/lib/blockhost-agent/staging")}/[0-9a-f]{16}\\.img$`)),
      "local-lvm",
    ]);
    expect(readFileSync(image, "utf8")).toBe("qcow");
    expect(r.format).toBe("raw");
    expect(Object.values(sim.vm(9000)!.config)).toContain("local-lvm:vm-9000-disk-1");
  });

  test("qm-template, then a linked qm-clone", async () => {
    await act("qm-template", { vmid: 9000 });
    expect(sim.vm(9000)!.template).toBe(true);
    await act("qm-clone", { vmid: 9000, newid: 101, name: "web-1" });
    expect(lastCall()).toEqual(["clone", "9000", "101", "--name", "web-1"]);
    expect(sim.vm(101)).toMatchObject({ name: "web-1", template: false, status: "stopped" });
  });

  test("qm-set and qm-resize configure the clone", async () => {
    await act("qm-set", {
      vmid: 101,
      options: {
        cores: 2,
        memory: 2048,
        ipconfig0: "ip=192.168.122.10/24,gw=192.168.122.1",
        cicustom: "user=local:snippets/blockhost-web-1.yaml",
      },
    });
    expect(sim.vm(101)!.config).toMatchObject({
      cores: "2",
      memory: "2048",
      cicustom: "user=local:snippets/blockhost-web-1.yaml",
    });
    await act("qm-set", { vmid: 101, options: { tags: "blockhost" }, delete: ["cores"] });
    expect(lastCall()).toEqual(["set", "101", "--tags", "blockhost", "--delete", "cores"]);
    expect(sim.vm(101)!.config.cores).toBeUndefined();
    expect(await act("qm-resize", { vmid: 101, disk: "scsi0", size: "+10G" })).toMatchObject({ size: "20G" });
    expect(sim.calls().slice(-3)).toEqual([
      ["config", "101"],
      ["resize", "101", "scsi0", "+10G"],
      ["config", "101"],
    ]);
    expect(await act("qm-resize", { vmid: 101, disk: "scsi0", size: "20G" })).toMatchObject({ size: "20G" });
    expect(sim.vm(101)!.config.scsi0).toContain("size=20G");
    expect(await act("qm-resize", { vmid: 101, disk: "scsi0", size: "+0.5G" })).toMatchObject({ size: "20992M" });
  });

  test("qm-start, qm-status, qm-guest-ping, qm-guest-exec", async () => {
    await act("qm-start", { vmid: 101 });
    expect(await act("qm-status", { vmid: 101 })).toEqual({ status: "running" });
    expect(await act("qm-guest-ping", { vmid: 101 })).toEqual({ responding: true });
    const echoed = await act("qm-guest-exec", { vmid: 101, command: ["sh", "-c", "echo $(hostname); ls"] });
    expect(lastCall()).toEqual(["guest", "exec", "101", "--timeout", "60", "--", "sh", "-c", "echo $(hostname); ls"]);
    expect(echoed).toEqual({ exited: true, exitcode: 0, stdout: "sh -c echo $(hostname); ls\n", stderr: "" });
    sim.setGuestExecResult({ exitcode: 3, exited: 1, "out-data": "partial", "err-data": "boom\n" });
    expect(await act("qm-guest-exec", { vmid: 101, command: ["false"], timeout: 5 })).toEqual({
      exited: true,
      exitcode: 3,
      stdout: "partial",
      stderr: "boom\n",
    });
    sim.setGuestExecResult(undefined);
  });

  test("errors come back as qm's last stderr line", async () => {
    await expect(act("qm-start", { vmid: 101 })).rejects.toMatchObject({
      code: "E_COMMAND_FAILED",
      message: "qm exited 255: VM 101 already running",
    });
    await expect(act("qm-destroy", { vmid: 101 })).rejects.toThrow("VM 101 is running - destroy failed");
    sim.setGuestAgentDown(true);
    expect(await act("qm-guest-ping", { vmid: 101 })).toEqual({
      responding: false,
      reason: "qm exited 255: QEMU guest agent is not running",
    });
    sim.setGuestAgentDown(false);
  });

  test("qm-shutdown waits 300 s; qm-destroy purges; a gone VM is status missing", async () => {
    await act("qm-shutdown", { vmid: 101 });
    expect(lastCall()).toEqual(["shutdown", "101", "--timeout", "300"]);
    expect(await act("qm-status", { vmid: 101 })).toEqual({ status: "stopped" });
    await act("qm-stop", { vmid: 101 });
    await act("qm-destroy", { vmid: 101 });
    expect(lastCall()).toEqual(["destroy", "101", "--purge"]);
    expect(sim.vm(101)).toBeUndefined();
    expect(await act("qm-status", { vmid: 101 })).toEqual({ status: "missing" });
  });
});

describe("failures", () => {
  test("an injected clone failure surfaces and leaves no VM", async () => {
    sim.failNext("clone", "clone failed: storage 'local-lvm' is full");
    await expect(act("qm-clone", { vmid: 9000, newid: 102, name: "web-2" })).rejects.toMatchObject({
      code: "E_COMMAND_FAILED",
      message: "qm exited 255: clone failed: storage 'local-lvm' is full",
    });
    expect(sim.vm(102)).toBeUndefined();
  });

  test("a full clone to another storage passes --full 1 --storage", async () => {
    await act("qm-clone", { vmid: 9000, newid: 103, name: "web-3", full: true, storage: "local" });
    expect(lastCall()).toEqual(["clone", "9000", "103", "--name", "web-3", "--full", "1", "--storage", "local"]);
  });

  test("a missing VM is an error for actions that need one", async () => {
    await expect(act("qm-start", { vmid: 4242 })).rejects.toThrow(
      "Configuration file 'nodes/pve/qemu-server/4242.conf' does not exist",
    );
  });
});

/** Run the simulator directly: what PVE 8's qm prints and exits with (pve-cloudinit-check.md). */
const qm = (...args: string[]) => {
  const r = Bun.spawnSync([sim.qmPath, ...args], { stdout: "pipe", stderr: "pipe" });
  return { code: r.exitCode, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
};

describe("real qm behaviours the simulator models, and how the actions handle them", () => {
  beforeAll(() => {
    sim.addVm({
      vmid: 300,
      name: "fid",
      config: { scsi0: "local-lvm:vm-300-disk-0,size=20G", agent: "1", net0: "virtio=BC:24:11:00:03:00,bridge=vmbr0" },
    });
  });

  test("a failed resize exits 0 with the reason on stderr only; qm-resize reads the size back and fails with it", async () => {
    expect(qm("resize", "300", "scsi0", "10G")).toEqual({
      code: 0,
      stdout: "",
      stderr: "shrinking disks is not supported\n",
    });
    await expect(act("qm-resize", { vmid: 300, disk: "scsi0", size: "10G" })).rejects.toMatchObject({
      code: "E_COMMAND_FAILED",
      message: "qm resize 300 scsi0 10G did not take effect (scsi0 is 20G): shrinking disks is not supported",
    });
    sim.setStorageFull(true);
    await expect(act("qm-resize", { vmid: 300, disk: "scsi0", size: "+5G" })).rejects.toThrow(
      "(scsi0 is 20G): lvextend failed: Insufficient free space",
    );
    sim.setStorageFull(false);
    await expect(act("qm-resize", { vmid: 300, disk: "virtio3", size: "+1G" })).rejects.toThrow(
      "(virtio3 has no size): disk 'virtio3' does not exist",
    );
    expect(sim.vm(300)!.config.scsi0).toBe("local-lvm:vm-300-disk-0,size=20G");
  });

  test("template refusals exit 255 before the task; a failed disk conversion exits 0 and qm-template refuses it", async () => {
    await act("qm-start", { vmid: 300 });
    expect(qm("template", "300")).toEqual({
      code: 255,
      stdout: "",
      stderr: "you can't convert a VM to template if VM is running\n",
    });
    await act("qm-stop", { vmid: 300 });
    expect(qm("template", "9000")).toMatchObject({ code: 255, stderr: "you can't convert a template to a template\n" });
    // PVE writes `template: 1` first, then vdisk_create_base fails: exit 0, a template on a vm- disk.
    sim.addVm({ vmid: 310, config: { scsi0: "local-lvm:vm-310-disk-0,size=2G" } });
    sim.failNext("create-base");
    expect(qm("template", "310")).toMatchObject({ code: 0, stderr: expect.stringContaining("Logical volume in use") });
    expect(sim.vm(310)).toMatchObject({ template: true, config: { scsi0: "local-lvm:vm-310-disk-0,size=2G" } });
    sim.addVm({ vmid: 311, config: { scsi0: "local-lvm:vm-311-disk-0,size=2G" } });
    sim.failNext("create-base");
    await expect(act("qm-template", { vmid: 311 })).rejects.toThrow(
      "qm template 311 left scsi0 on a vm- volume (local-lvm:vm-311-disk-0), not a base volume: lvrename 'local-lvm:vm-311-disk-0' error:   Logical volume in use.",
    );
  });

  test("a parameter error prints the usage line last; the agent reports the line naming the problem", async () => {
    const r = qm("set", "300", "--ipconfig0", "gw=10.0.0.1");
    expect(r.code).toBe(255);
    expect(r.stderr.trim().split("\n").at(-1)).toBe("qm set <vmid> [OPTIONS]");
    const run = createRunner({ ...DEFAULT_BINARIES, qm: sim.qmPath }, AbortSignal.timeout(30_000));
    await expect(run("qm", ["set", "300", "--ipconfig0", "gw=10.0.0.1"])).rejects.toThrow(
      "qm exited 255: ipconfig0.ip: missing property - 'gw' requires this property",
    );
    await expect(run("qm", ["set", "300", "--hookscript", "local:snippets/x.sh"])).rejects.toThrow(
      "qm exited 255: Unknown option: hookscript",
    );
    await expect(run("qm", ["clone", "9000", "301", "--name", "web_1"])).rejects.toThrow(
      "qm exited 255: name: invalid format - value does not look like a valid DNS name",
    );
  });

  test("--sshkeys is a file path for the qm CLI: a key as value exits 2", async () => {
    expect(qm("set", "300", "--sshkeys", "ssh-ed25519%20AAAA")).toMatchObject({
      code: 2,
      stderr: "can't open 'ssh-ed25519%20AAAA' - No such file or directory\n",
    });
    const run = createRunner({ ...DEFAULT_BINARIES, qm: sim.qmPath }, AbortSignal.timeout(30_000));
    await expect(run("qm", ["set", "300", "--sshkeys", "ssh-ed25519%20AAAA"])).rejects.toMatchObject({
      message: "qm exited 2: can't open 'ssh-ed25519%20AAAA' - No such file or directory",
      details: { code: 2 },
    });
  });

  test("option values are checked with PVE's formats (what the agent's allowlist also refuses)", () => {
    expect(qm("set", "300", "--virtio0", "local-lvm:vm-300-disk-1,ssd=1").stderr).toContain(
      "virtio0.ssd: property is not defined in schema",
    );
    expect(qm("set", "300", "--net0", "virtio=BD:24:11:00:00:01,bridge=vmbr0").stderr).toContain(
      "net0.macaddr: value does not look like a valid unicast MAC address",
    );
    expect(qm("set", "300", "--ipconfig0", "ip=10.0.0.5/7").stderr).toContain(
      "ipconfig0.ip: value does not look like a valid IP configuration",
    );
    expect(
      qm("set", "300", "--nameserver", "1.1.1.1,8.8.8.8", "--net0", "bridge=vmbr0,virtio,mtu=1,queues=0").code,
    ).toBe(0);
  });

  test("shutdown of a stopped VM is a no-op with exit 0", async () => {
    expect(sim.vm(300)!.status).toBe("stopped");
    expect(qm("shutdown", "300", "--timeout", "300")).toEqual({ code: 0, stdout: "", stderr: "" });
    await act("qm-shutdown", { vmid: 300 });
  });

  test("a clone of a non-template without --full is a full clone, with a new MAC", async () => {
    await act("qm-set", { vmid: 300, options: { net0: "virtio=BC:24:11:00:03:00,bridge=vmbr0" } });
    await act("qm-clone", { vmid: 300, newid: 302, name: "fid-copy" });
    const copy = sim.vm(302)!;
    expect(copy.config.scsi0).toBe("local-lvm:vm-302-disk-0,size=20G");
    expect(copy.config.net0).toMatch(/^virtio=BC:24:11:[0-9A-F:]{8},bridge=vmbr0$/);
    expect(copy.config.net0).not.toBe(sim.vm(300)!.config.net0);
    expect(qm("clone", "9000", "303", "--storage", "local")).toMatchObject({
      code: 255,
      stderr: "parameter 'storage' not allowed for linked clones\n",
    });
  });

  test("qm-config returns the VM's config, with template: 1 for a template", async () => {
    expect(await act("qm-config", { vmid: 9000 })).toMatchObject({ config: { template: "1", name: "debian-12" } });
    expect((await act("qm-config", { vmid: 300 })).config).not.toHaveProperty("template");
  });
});
