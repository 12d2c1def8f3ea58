/** Agent qm actions against the qm simulator. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { actionRunner } from "../helpers/action-context.ts";
import { tempDir } from "../helpers/binary.ts";
import { createQmSimulator, type QmSimulator } from "../helpers/qm-simulator.ts";

/** The qm-* actions against the Proxmox qm simulator: the argv they run and the state they leave. */
let sim: QmSimulator;
let act: ReturnType<typeof actionRunner>;
const { dir: root, cleanup } = tempDir("blockhost-qm-");
const previousRoot = process.env.BLOCKHOST_ROOT;

beforeAll(() => {
  process.env.BLOCKHOST_ROOT = root;
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
    await act("qm-create", { vmid: 9000, name: "debian-12", args: { memory: 1024, cores: 1, scsi0: "local-lvm:vm-9000-disk-0,size=10G", agent: "1", ide2: "local-lvm:cloudinit" } });
    expect(lastCall()).toEqual(["create", "9000", "--name", "debian-12", "--agent", "1", "--cores", "1", "--ide2", "local-lvm:cloudinit", "--memory", "1024", "--scsi0", "local-lvm:vm-9000-disk-0,size=10G"]);
    expect(sim.vm(9000)).toMatchObject({ name: "debian-12", status: "stopped", config: { memory: "1024" } });
  });

  test("qm-importdisk imports a confined image", async () => {
    const image = join(root, "var/lib/blockhost/images/debian.qcow2");
    mkdirSync(join(root, "var/lib/blockhost/images"), { recursive: true });
    writeFileSync(image, "qcow");
    const r = await act("qm-importdisk", { vmid: 9000, disk_path: image, storage: "local-lvm" });
    expect(String(r.output)).toContain("Successfully imported disk");
    // qm read the file from the agent's root-only staging directory, and it is back under its name.
    expect(lastCall()).toEqual(["importdisk", "9000", expect.stringMatching(new RegExp(`^${join(root, "var/lib/blockhost/.agent-staging")}/[0-9a-f]{16}-debian\\.qcow2$`)), "local-lvm"]);
    expect(existsSync(image)).toBe(true);
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
    await act("qm-set", { vmid: 101, options: { cores: 2, memory: 2048, ipconfig0: "ip=192.168.122.10/24,gw=192.168.122.1", cicustom: "user=local:snippets/blockhost-web-1.yaml" } });
    expect(sim.vm(101)!.config).toMatchObject({ cores: "2", memory: "2048", cicustom: "user=local:snippets/blockhost-web-1.yaml" });
    await act("qm-set", { vmid: 101, options: { tags: "blockhost" }, delete: ["cores"] });
    expect(lastCall()).toEqual(["set", "101", "--tags", "blockhost", "--delete", "cores"]);
    expect(sim.vm(101)!.config.cores).toBeUndefined();
    await act("qm-resize", { vmid: 101, disk: "scsi0", size: "+10G" });
    expect(lastCall()).toEqual(["resize", "101", "scsi0", "+10G"]);
    expect(sim.vm(101)!.config.scsi0).toContain("size=20G");
  });

  test("qm-start, qm-status, qm-guest-ping, qm-guest-exec", async () => {
    await act("qm-start", { vmid: 101 });
    expect(await act("qm-status", { vmid: 101 })).toEqual({ status: "running" });
    expect(await act("qm-guest-ping", { vmid: 101 })).toEqual({ responding: true });
    const echoed = await act("qm-guest-exec", { vmid: 101, command: ["sh", "-c", "echo $(hostname); ls"] });
    expect(lastCall()).toEqual(["guest", "exec", "101", "--timeout", "60", "--", "sh", "-c", "echo $(hostname); ls"]);
    expect(echoed).toEqual({ exited: true, exitcode: 0, stdout: "sh -c echo $(hostname); ls\n", stderr: "" });
    sim.setGuestExecResult({ exitcode: 3, exited: 1, "out-data": "partial", "err-data": "boom\n" });
    expect(await act("qm-guest-exec", { vmid: 101, command: ["false"], timeout: 5 })).toEqual({ exited: true, exitcode: 3, stdout: "partial", stderr: "boom\n" });
    sim.setGuestExecResult(undefined);
  });

  test("errors come back as qm's last stderr line", async () => {
    await expect(act("qm-start", { vmid: 101 })).rejects.toMatchObject({ code: "E_COMMAND_FAILED", message: "qm exited 255: VM 101 already running" });
    await expect(act("qm-destroy", { vmid: 101 })).rejects.toThrow("VM 101 is running - destroy failed");
    sim.setGuestAgentDown(true);
    expect(await act("qm-guest-ping", { vmid: 101 })).toEqual({ responding: false, reason: "qm exited 255: QEMU guest agent is not running" });
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
    await expect(act("qm-clone", { vmid: 9000, newid: 102, name: "web-2" })).rejects.toMatchObject({ code: "E_COMMAND_FAILED", message: "qm exited 255: clone failed: storage 'local-lvm' is full" });
    expect(sim.vm(102)).toBeUndefined();
  });

  test("a full clone to another storage passes --full 1 --storage", async () => {
    await act("qm-clone", { vmid: 9000, newid: 103, name: "web-3", full: true, storage: "local" });
    expect(lastCall()).toEqual(["clone", "9000", "103", "--name", "web-3", "--full", "1", "--storage", "local"]);
  });

  test("a missing VM is an error for actions that need one", async () => {
    await expect(act("qm-start", { vmid: 4242 })).rejects.toThrow("Configuration file 'nodes/pve/qemu-server/4242.conf' does not exist");
  });
});
