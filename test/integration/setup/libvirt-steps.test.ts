// Finalize's `backend` and `template` steps on libvirt, against the real libvirtd (no VM is booted, no template built).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { SetupContext } from "../../../src/setup/context.ts";
import type { BackendChoice } from "../../../src/setup/schema.ts";
import { hypervisorFor } from "../../../src/setup/steps/hypervisor.ts";
import { VM_AUTH_FILES } from "../../../src/vmauth/files/index.ts";
import { startAgent, type RunningAgent } from "../../helpers/agent.ts";
import { tempDir } from "../../helpers/binary.ts";
import { ensureLibvirtd, libvirtUnavailable, virshOut } from "../../helpers/libvirt-host.ts";

const why = libvirtUnavailable();
if (why) console.log(`skip: libvirt setup-step tests: ${why}`);

/** A manifest as `blockhost template build` writes it; the image beside it is a few bytes (never booted here). */
const manifest = (image: string) => ({
  format: 1,
  image,
  sha256: "0".repeat(64),
  size_bytes: 4,
  virtual_size_gb: 3,
  built_at: "2026-12-01T19:59:10.924Z",
  build_seconds: 87,
  inputs_sha256: "1".repeat(64),
  debian_suite: "bookworm",
  apt_sources: ["deb http://deb.debian.org/debian bookworm main"],
  packages: ["linux-image-amd64", "cloud-init", "qemu-guest-agent"],
  blockhost_binary: "/usr/local/bin/blockhost",
  blockhost_binary_sha256: "2".repeat(64),
  vmauth_files: VM_AUTH_FILES.map((f) => f.path),
  cloud_init: true,
  qemu_guest_agent: true,
  boot: {
    mode: "direct-kernel",
    kernel: `${image}.vmlinuz`,
    initrd: `${image}.initrd`,
    cmdline: "root=LABEL=rootfs ro",
  },
});

describe.skipIf(why !== undefined)("finalize on libvirt: the host check through the agent (real libvirtd)", () => {
  let env: { dir: string; cleanup: () => void };
  let agent: RunningAgent;
  let daemons: { stop: () => void } | undefined;
  const network = `bh-setup-${process.pid}`;
  const bridge = `bhsl${process.pid % 100000}`;
  const ctx = () => ({ fileName: "setup.yaml", agent: agent.client }) as unknown as SetupContext;
  const templateDir = () => join(env.dir, "var/lib/libvirt/blockhost/templates");
  const libvirt = (o: Record<string, unknown> = {}) =>
    hypervisorFor({ libvirt: { bridge, network, accel: "auto", ...o } } as BackendChoice);
  const netFile = () => join(env.dir, "net.xml");

  beforeAll(async () => {
    env = tempDir("blockhost-lvsetup-");
    daemons = await ensureLibvirtd();
    // An isolated network of this test's own (no address, no DHCP, no forward): nothing leaves it.
    writeFileSync(
      netFile(),
      `<network><name>${network}</name><bridge name='${bridge}' stp='off' delay='0'/><dns enable='no'/></network>`,
    );
    for (const args of [
      ["net-define", netFile()],
      ["net-start", network],
    ]) {
      const r = virshOut(...args);
      if (r.code !== 0) throw new Error(`virsh ${args[0]}: ${r.out}`);
    }
    agent = await startAgent({ root: env.dir });
    process.env.BLOCKHOST_ROOT = env.dir;
  });
  afterAll(async () => {
    delete process.env.BLOCKHOST_ROOT;
    await agent?.stop();
    virshOut("net-destroy", network);
    virshOut("net-undefine", network);
    daemons?.stop();
    env?.cleanup();
  });

  const installFakeTemplate = (name = "blockhost-template.qcow2", m: object = manifest(name)) => {
    mkdirSync(templateDir(), { recursive: true });
    const image = join(templateDir(), name);
    writeFileSync(image, "qcow");
    writeFileSync(`${image}.json`, JSON.stringify(m));
    return image;
  };

  test("libvirt answers, the network is active, the bridge exists: no template yet is left to the template step", async () => {
    const r = await libvirt().check(ctx());
    expect(r).toMatchObject({ backend: "libvirt", bridge, network });
    const findings = r.findings as string[];
    expect(findings[0]).toMatch(/^libvirt \d+\.\d+\.\d+, QEMU \d+\.\d+\.\d+$/);
    expect(findings[1]).toStartWith(existsSync("/dev/kvm") ? "accelerator: KVM" : "accelerator: QEMU TCG");
    expect(findings.some((l) => l.startsWith("problem:"))).toBe(false);
    expect(findings.at(-1)).toMatch(new RegExp(`^storage: ${env.dir}/var/lib/libvirt/blockhost: \\d+ GB free$`));
    expect(r.accel).toBe(existsSync("/dev/kvm") ? "kvm" : "tcg");
  });

  test("a template in place: the check reads its manifest and the template step builds nothing", async () => {
    const image = installFakeTemplate();
    const r = await libvirt().check(ctx());
    expect(r.findings).toContain("template blockhost-template.qcow2: Debian bookworm, built 2026-12-01T19:59:10.924Z");
    expect(await libvirt().ensureTemplate(ctx())).toEqual({
      template: image,
      built: false,
      image: "blockhost-template.qcow2",
      built_at: "2026-12-01T19:59:10.924Z",
    });
  });

  test("a template whose manifest is wrong stops both steps, naming the file and the key", async () => {
    const image = installFakeTemplate("broken.qcow2", { ...manifest("broken.qcow2"), cloud_init: "yes" });
    await expect(libvirt({ template: image }).check(ctx())).rejects.toThrow(
      `setup.yaml: backend.libvirt: ${image}.json: cloud_init`,
    );
    await expect(libvirt({ template: image }).ensureTemplate(ctx())).rejects.toThrow(`${image}.json: cloud_init`);
  });

  test("accel: kvm on a host without KVM is refused at the check", async () => {
    const check = libvirt({ accel: "kvm" }).check(ctx());
    if (existsSync("/dev/kvm")) expect(await check).toMatchObject({ accel: "kvm" });
    else await expect(check).rejects.toThrow("setup.yaml: backend.libvirt.accel: kvm asked, but accelerator: QEMU TCG");
  });

  test("a missing bridge or an inactive network is named", async () => {
    await expect(libvirt({ bridge: "bhnone0" }).check(ctx())).rejects.toThrow(
      "setup.yaml: backend.libvirt.bridge: no network interface named bhnone0 on this host",
    );
    await expect(libvirt({ network: "bh-no-such-net" }).check(ctx())).rejects.toThrow(
      "setup.yaml: backend.libvirt: libvirt network bh-no-such-net is not active (virsh net-start bh-no-such-net)",
    );
    expect(virshOut("net-destroy", network).code).toBe(0);
    try {
      // libvirt removes the bridge with the network: both problems are named.
      await expect(libvirt().check(ctx())).rejects.toThrow(`no network interface named ${bridge}`);
      await expect(libvirt({ bridge: "lo" }).check(ctx())).rejects.toThrow(
        `libvirt network ${network} is not active (virsh net-start ${network}); bridge lo does not exist`,
      );
    } finally {
      virshOut("net-start", network);
    }
  });

  test("libvirt not answering is one line naming qemu:///system", async () => {
    // The agent runs `virsh -q -c qemu:///system ARGS` from its binary table: the real virsh, on a socket no daemon serves.
    const dead = join(env.dir, "virsh-dead");
    const uri = `qemu+unix:///system?socket=${env.dir}/none.sock`;
    writeFileSync(dead, `#!/bin/sh\nshift 3\nexec /usr/bin/virsh -q -c '${uri}' "$@"\n`, { mode: 0o755 });
    await agent.stop();
    agent = await startAgent({ root: env.dir, binaries: { virsh: dead } });
    try {
      await expect(libvirt({ bridge: "lo", network: undefined }).check(ctx())).rejects.toThrow(
        "setup.yaml: backend.libvirt: libvirt does not answer on qemu:///system",
      );
    } finally {
      await agent.stop();
      rmSync(join(env.dir, "etc/blockhost/agent.yaml"));
      agent = await startAgent({ root: env.dir });
    }
  });
});
