/** The libvirt lifecycle actions decide on codes: virsh's "no domain", "not running", "already active", classified once. */
import { afterAll, describe, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  virshDestroy,
  virshDomstate,
  virshReboot,
  virshShutdown,
  virshStart,
  virshUndefine,
} from "../../../src/agent/actions/libvirt.ts";
import type { ActionContext } from "../../../src/agent/actions/types.ts";
import { DEFAULT_BINARIES } from "../../../src/agent/binaries.ts";
import { createRunner } from "../../../src/agent/run.ts";

const URI = "qemu:///system";
const virsh = (...args: string[]) => Bun.spawnSync(["virsh", "-q", "-c", URI, ...args], { stderr: "pipe" });
const usable = process.getuid?.() === 0 && virsh("version").exitCode === 0;
if (!usable) console.log("skip: the virsh failure tests need root and a running libvirtd");

// A diskless TCG guest: it sits in the firmware, which is enough to be "running".
const name = `bh-virsh-fail-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
const xml = `<domain type='qemu'><name>${name}</name><memory unit='MiB'>32</memory><vcpu>1</vcpu>
<os><type arch='x86_64'>hvm</type></os><devices><serial type='pty'/></devices></domain>`;

const xmlFile = join(tmpdir(), `${name}.xml`);

const ctx = (): ActionContext => {
  const signal = AbortSignal.timeout(60_000);
  return { peer: { pid: process.pid, uid: 0, gid: 0 }, signal, run: createRunner(DEFAULT_BINARIES, signal) };
};

describe.skipIf(!usable)("virsh lifecycle actions on a real domain", () => {
  afterAll(() => {
    virsh("destroy", name);
    virsh("undefine", name);
    rmSync(xmlFile, { force: true });
  });

  test("each outcome virsh reports in words is a coded result, and other failures still throw", async () => {
    await Bun.write(xmlFile, xml);
    expect(virsh("define", xmlFile).exitCode).toBe(0);
    const p = { name };

    // Defined, not running.
    expect(await virshDomstate.handler(p, ctx())).toEqual({ state: "shut off" });
    expect(await virshShutdown.handler(p, ctx())).toEqual({ requested: false });
    expect(await virshReboot.handler(p, ctx())).toEqual({ requested: false });
    expect(await virshDestroy.handler(p, ctx())).toEqual({ stopped: false });

    // Running: a second start is "already active".
    expect(await virshStart.handler(p, ctx())).toEqual({ started: true });
    expect(await virshStart.handler(p, ctx())).toEqual({ started: false });
    expect(await virshDomstate.handler(p, ctx())).toEqual({ state: "running" });
    expect(await virshDestroy.handler(p, ctx())).toEqual({ stopped: true });

    // Gone.
    expect(await virshUndefine.handler(p, ctx())).toEqual({ removed: true });
    expect(await virshDomstate.handler(p, ctx())).toEqual({ state: "missing" });
    expect(await virshUndefine.handler(p, ctx())).toEqual({ removed: false });
    expect(await virshDestroy.handler(p, ctx())).toEqual({ stopped: false });
    // Starting a domain that is not there is an error, with the code a caller decides on.
    await expect(virshStart.handler(p, ctx())).rejects.toMatchObject({ code: "E_NOT_FOUND" });
  });
});
