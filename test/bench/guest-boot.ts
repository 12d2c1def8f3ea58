// Per OS, in one run: the bare boot of a template to its login prompt (the floor) and `vm create` → first wallet SSH login.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { privateKeyToAccount } from "viem/accounts";
import { DEFAULT_OS, OS_IDS, type OsId } from "../../src/core/template/os.ts";
import { KERNEL_CMDLINE } from "../../src/core/template/boot.ts";
import { initrdPath, kernelPath } from "../../src/core/template/manifest.ts";
import { blockhostBinary } from "../helpers/binary.ts";
import { startLibvirtEngineHost } from "../helpers/libvirt-engine.ts";
import {
  TEMPLATE_CACHE,
  cachedTemplate,
  ensureLibvirtd,
  libvirtUnavailable,
  walletSshLogin,
} from "../helpers/libvirt-host.ts";
import type { BenchRow } from "./agent.ts";

const s = (ms: number) => (ms / 1000).toFixed(1);

/**
 * The floor: the template's own kernel and userspace to the serial console's login prompt, on the
 * machine the libvirt domain uses (q35, TCG with a 256 MiB translation cache, 1 vCPU), with no seed
 * and the first-boot step masked.
 */
async function bareBootMs(image: string): Promise<number> {
  const dir = mkdtempSync(join(TEMPLATE_CACHE, "floor-"));
  try {
    const disk = join(dir, "disk.qcow2");
    Bun.spawnSync(["qemu-img", "create", "-q", "-f", "qcow2", "-b", image, "-F", "qcow2", disk, "20G"]);
    const consoleLog = join(dir, "console.log");
    const started = performance.now();
    const q = Bun.spawn(
      [
        "qemu-system-x86_64",
        ...["-machine", "q35", "-accel", "tcg,tb-size=256", "-cpu", "max", "-m", "2048", "-smp", "1"],
        ...["-display", "none", "-nodefaults", "-no-reboot", "-serial", `file:${consoleLog}`],
        ...["-kernel", kernelPath(image), "-initrd", initrdPath(image)],
        ...["-append", `${KERNEL_CMDLINE} systemd.mask=blockhost-firstboot.service`],
        ...["-drive", `file=${disk},if=virtio,format=qcow2`],
      ],
      { stdout: "ignore", stderr: "ignore" },
    );
    try {
      const deadline = Date.now() + 15 * 60_000;
      for (;;) {
        let text = "";
        try {
          text = readFileSync(consoleLog, "utf8");
        } catch {
          /* not yet */
        }
        if (/login: /.test(text)) return performance.now() - started;
        if (q.exitCode !== null || Date.now() > deadline) throw new Error("no login prompt on the bare boot");
        await Bun.sleep(100);
      }
    } finally {
      q.kill("SIGKILL");
      await q.exited;
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** `blockhost vm create --os` → first wallet SSH login, split at "defined domain" (create / boot). */
export async function createToLoginMs(
  root: string,
  os: OsId,
  signer: ReturnType<typeof privateKeyToAccount>,
  name: string,
) {
  const started = performance.now();
  const p = Bun.spawn(
    [blockhostBinary(), "vm", "create", name, "--owner-wallet", signer.address, "--os", os, "--apply", "--json"],
    { env: { ...process.env, BLOCKHOST_ROOT: root }, stdout: "pipe", stderr: "pipe" },
  );
  let defined = 0;
  let address = "";
  const stderr = (async () => {
    const decoder = new TextDecoder();
    let text = "";
    for await (const chunk of p.stderr) {
      text += decoder.decode(chunk);
      if (!defined && text.includes(`defined domain ${name}`)) defined = performance.now();
    }
  })();
  const stdout = new Response(p.stdout).text().then((t) => {
    address = JSON.parse(t).plan.ipv6_address;
  });
  await Promise.all([stdout, stderr, p.exited]);
  if (p.exitCode !== 0 || !address) throw new Error(`vm create --os ${os} failed`);
  for (;;) {
    const r = await walletSshLogin(address, "admin", signer, 180_000);
    if (r.ok) break;
    if (performance.now() - started > 20 * 60_000) throw new Error(`no wallet login to ${name}`);
    await Bun.sleep(500);
  }
  const loggedIn = performance.now();
  Bun.spawnSync([blockhostBinary(), "vm", "destroy", name], { env: { ...process.env, BLOCKHOST_ROOT: root } });
  return { total: loggedIn - started, create: defined - started, boot: loggedIn - defined };
}

/** For each OS: floor, create → login (split), their ratio; then the template's size. */
export async function benchGuestBoot(): Promise<BenchRow[]> {
  const why = libvirtUnavailable();
  if (why) return [{ name: `guest boot benchmarks skipped: ${why}`, value: "-", unit: "" }];
  const daemons = await ensureLibvirtd();
  const rows: BenchRow[] = [];
  const others = OS_IDS.filter((o) => o !== DEFAULT_OS);
  const host = await startLibvirtEngineHost({ guestAgentTimeoutS: 900, oses: others });
  try {
    for (const os of OS_IDS) {
      const tpl = await cachedTemplate(os);
      const floor = await bareBootMs(tpl.image);
      const signer = privateKeyToAccount(host.env.anvil.accounts[3]!.privateKey);
      const t = await createToLoginMs(host.env.root, os, signer, `bench-${os.replace(/\W/g, "")}`);
      rows.push(
        { name: `${os}: bare boot to the login prompt (floor, TCG)`, value: s(floor), unit: "s" },
        { name: `${os}: vm create → first wallet SSH login`, value: s(t.total), unit: "s" },
        { name: `${os}:   of which create (overlay, seed, define)`, value: s(t.create), unit: "s" },
        { name: `${os}:   of which boot → wallet SSH login`, value: s(t.boot), unit: "s" },
        { name: `${os}: create → login / floor`, value: (t.total / floor).toFixed(2), unit: "×" },
        { name: `${os}: template qcow2 size`, value: (tpl.manifest.size_bytes / 2 ** 20).toFixed(0), unit: "MiB" },
      );
    }
  } finally {
    await host.stop();
    daemons.stop();
  }
  return rows;
}
