/**
 * The serial console relay through the compiled agent: a Proxmox VM's `serial0` socket (the qm
 * simulator's fake getty) relayed to a per-session socket; one session per VM (a newer one takes
 * over), idle timeout, the end of the VM ends the session; and, as the real `blockhost` account,
 * that the relay reaches only BlockHost's VMs and never a path the caller names.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, lstatSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { startAgent, type RunningAgent } from "../../helpers/agent.ts";
import { tempDir } from "../../helpers/binary.ts";
import { connectConsole } from "../../helpers/console.ts";
import { hostileService, type HostileService } from "../../helpers/hostile-service.ts";
import { libvirtUnavailable, virshOut } from "../../helpers/libvirt-host.ts";
import { createQmSimulator, type QmSimulator } from "../../helpers/qm-simulator.ts";
import { writeScopeConfig } from "../../helpers/scope-config.ts";

const skip = process.getuid?.() !== 0 ? "needs root (a real agent, setpriv to the service account)" : undefined;
if (skip) console.log(`skipping agent console tests: ${skip}`);

describe.skipIf(!!skip)("serial console relay (Proxmox serial0 through the qm simulator)", () => {
  let sim: QmSimulator;
  let agent: RunningAgent;
  let attacker: HostileService;
  const work = tempDir("blockhost-console-");
  const root = join(work.dir, "root");
  const consoleLines = () => agent.logLines().filter((l) => l.event === "agent.console");

  beforeAll(async () => {
    chmodSync(work.dir, 0o755);
    attacker = hostileService(join(work.dir, "attacker-bin"));
    for (const d of ["", "run/blockhost", "etc"]) mkdirSync(join(root, d), { recursive: true, mode: 0o755 });
    sim = createQmSimulator();
    agent = await startAgent({ root, binaries: { qm: sim.qmPath, pvesh: sim.pveshPath } });
    chmodSync(join(root, "run/blockhost"), 0o755);
    writeScopeConfig(root, { vmidRange: { start: 100, end: 999 }, templateVmid: 9000 });
    sim.setRunDir(join(root, "var/run/qemu-server"));
    for (const vmid of [150, 151, 152]) sim.addVm({ vmid, name: `con-${vmid}`, config: { serial0: "socket" } });
    sim.addVm({ vmid: 160, name: "no-serial", config: {} });
    sim.addVm({ vmid: 2000, name: "operator-vm", status: "running", config: { serial0: "socket" } });
    for (const vmid of [150, 151, 152, 160]) await agent.client.call("qm-start", { vmid });
  });
  afterAll(async () => {
    for (const vmid of [150, 151, 152, 160]) await agent?.client.call("qm-stop", { vmid }).catch(() => {});
    await agent?.stop();
    sim?.cleanup();
    work.cleanup();
  });

  test("the console shows the login prompt, relays typing both ways and writes an audit line", async () => {
    const { socket, took_over } = await agent.client.call("qm-console-open", { vmid: 150, idle_seconds: 60 });
    expect(took_over).toBe(false);
    const st = lstatSync(socket);
    expect(st.isSocket() && (st.mode & 0o777) === 0o600).toBe(true);
    expect(lstatSync(join(agent.root, "run/blockhost/console")).mode & 0o777).toBe(0o711);
    const c = await connectConsole(socket);
    c.write("\r");
    await c.waitFor(/con-150 login: $/);
    c.write("admin\r");
    await c.waitFor(/admin@con-150:~\$ $/);
    c.write("echo relayed-7f3a\r");
    await c.waitFor(/\r\nrelayed-7f3a\r\n/);
    // The session socket takes one connection and is gone once it has it.
    expect(lstatSync(socket, { throwIfNoEntry: false })).toBeUndefined();
    c.close();
    await c.closed;
    await waitFor(() => consoleLines().some((l) => l.target === "vmid:150" && l.reason === "client-closed"));
    const line = consoleLines().find((l) => l.target === "vmid:150")!;
    expect(line).toMatchObject({ uid: 0, reason: "client-closed" });
    expect(Number(line.bytes_in)).toBe("\radmin\recho relayed-7f3a\r".length);
    expect(Number(line.duration_s)).toBeGreaterThanOrEqual(0);
  });

  test("one session per server: a second open takes over and the first is told and closed", async () => {
    const first = await connectConsole(
      (await agent.client.call("qm-console-open", { vmid: 151, idle_seconds: 60 })).socket,
    );
    const again = await agent.client.call("qm-console-open", { vmid: 151, idle_seconds: 60 });
    expect(again.took_over).toBe(true);
    await first.closed;
    expect(first.text()).toContain("opened in another session");
    const second = await connectConsole(again.socket);
    second.write("\r");
    await second.waitFor(/con-151 login: $/);
    second.close();
    await waitFor(() => consoleLines().some((l) => l.target === "vmid:151" && l.reason === "taken-over"));
  });

  test("an idle session closes with a notice; stopping the VM ends a session", async () => {
    const idle = await connectConsole(
      (await agent.client.call("qm-console-open", { vmid: 152, idle_seconds: 1 })).socket,
    );
    await idle.closed;
    expect(idle.text()).toContain("closed after 1 s without input");
    const live = await connectConsole(
      (await agent.client.call("qm-console-open", { vmid: 152, idle_seconds: 60 })).socket,
    );
    live.write("\r");
    await live.waitFor(/login: $/);
    await agent.client.call("qm-stop", { vmid: 152 });
    await live.closed;
    await waitFor(() => consoleLines().some((l) => l.target === "vmid:152" && l.reason === "vm-closed"));
  });

  test("no serial socket or a stopped VM: qm terminal's refusals, as E_STATE", async () => {
    await expect(agent.client.call("qm-console-open", { vmid: 160, idle_seconds: 60 })).rejects.toMatchObject({
      code: "E_STATE",
      message: "unable to find a serial interface",
    });
    await expect(agent.client.call("qm-console-open", { vmid: 152, idle_seconds: 60 })).rejects.toMatchObject({
      code: "E_STATE",
      message: "VM 152 not running",
    });
  });

  test("as the blockhost account: no VMID out of range, no path, no foreign domain", async () => {
    const replies = await attacker.call(agent.socket, [
      { action: "qm-console-open", params: { vmid: 2000, idle_seconds: 60 } },
      { action: "qm-console-open", params: { vmid: 150, idle_seconds: 60, path: "/dev/pts/0" } },
      { action: "qm-console-open", params: { vmid: 150, idle_seconds: 60, socket: "/run/qemu-server/2000.serial0" } },
      { action: "virsh-console-open", params: { name: "../../dev/tty1", idle_seconds: 60 } },
      { action: "qm-console-open", params: { vmid: 150, idle_seconds: 86_400 } },
    ]);
    expect(replies.map((r) => r.code)).toEqual([
      "E_AGENT_OUT_OF_SCOPE",
      "E_AGENT_INVALID_PARAMS",
      "E_AGENT_INVALID_PARAMS",
      "E_AGENT_INVALID_PARAMS",
      "E_AGENT_INVALID_PARAMS",
    ]);
    expect(agent.logLines().some((l) => l.event === "agent.out_of_scope" && l.value === "2000")).toBe(true);
  });

  test.skipIf(libvirtUnavailable() !== undefined)(
    "as the blockhost account: a libvirt domain BlockHost did not create is refused",
    async () => {
      const name = `operator-con-${process.pid}`;
      const xml = `<domain type='qemu'><name>${name}</name><memory unit='MiB'>32</memory><os><type arch='x86_64'>hvm</type></os></domain>`;
      const file = join(work.dir, `${name}.xml`);
      await Bun.write(file, xml);
      expect(virshOut("define", file).code).toBe(0);
      try {
        const [reply] = await attacker.call(agent.socket, [
          { action: "virsh-console-open", params: { name, idle_seconds: 60 } },
        ]);
        expect(reply).toMatchObject({ ok: false, code: "E_AGENT_OUT_OF_SCOPE" });
      } finally {
        virshOut("undefine", name);
      }
    },
  );

  test("as the blockhost account: a session root opened cannot be joined; the account's own one only by it", async () => {
    const { socket: rootSession } = await agent.client.call("qm-console-open", { vmid: 150, idle_seconds: 60 });
    expect(await attacker.console(rootSession, "\r")).toEqual({ error: "EACCES" });
    // The root session is intact: its owner still connects and gets the prompt.
    const owner = await connectConsole(rootSession);
    owner.write("\r");
    await owner.waitFor(/login: $/);
    owner.close();
    await owner.closed;
    // A session the account opened is the account's (and relays for it).
    const [mine] = await attacker.call(agent.socket, [
      { action: "qm-console-open", params: { vmid: 150, idle_seconds: 60 } },
    ]);
    expect(mine).toMatchObject({ ok: true });
    const path = String(mine!.socket);
    expect(lstatSync(path).uid).toBe(attacker.uid);
    const got = await attacker.console(path, "\r");
    expect(got.connected).toBe(true);
    expect(got.received).toContain("con-150 login: ");
  });
});

async function waitFor(check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > until) throw new Error("condition not met in time");
    await Bun.sleep(25);
  }
}
