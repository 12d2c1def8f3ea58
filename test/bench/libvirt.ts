// Benchmarks on real libvirt: template build (cold and with the cached Debian root filesystem) and P1, purchase → wallet SSH login.
import { mkdtempSync, rmSync } from "node:fs";
import { join } from "node:path";
import { privateKeyToAccount } from "viem/accounts";
import { buildTemplate } from "../../src/template/build.ts";
import { baselineBinary } from "../helpers/binary.ts";
import { EngineEnv, eventually } from "../helpers/engine-env.ts";
import { startLibvirtEngineHost } from "../helpers/libvirt-engine.ts";
import {
  TEMPLATE_CACHE,
  ensureLibvirtd,
  libvirtUnavailable,
  p1Split,
  qemuRssMiB,
  walletSshLogin,
} from "../helpers/libvirt-host.ts";
import type { BenchRow } from "./agent.ts";

/**
 * Template build from nothing (mmdebstrap included) next to a rebuild that reuses the Debian root
 * filesystem. No VM boots here, so it can run while another engineer's VM test holds the heavy lock.
 */
export async function benchLibvirtTemplate(): Promise<BenchRow[]> {
  const why = libvirtUnavailable();
  if (why) return [{ name: `template benchmarks skipped: ${why}`, value: "-", unit: "" }];
  return benchTemplateBuild();
}

/**
 * P1 (purchase mined → first wallet SSH login) split into chain wait, create and boot, and the
 * VM's qemu RSS, next to the same purchase on the dry-run backend (mined → NFT minted) as the baseline.
 */
export async function benchLibvirtP1(): Promise<BenchRow[]> {
  const why = libvirtUnavailable();
  if (why) return [{ name: `libvirt P1 benchmark skipped: ${why}`, value: "-", unit: "" }];
  const daemons = await ensureLibvirtd();
  try {
    return await benchP1();
  } finally {
    daemons.stop();
  }
}

async function benchTemplateBuild(): Promise<BenchRow[]> {
  const dir = mkdtempSync(join(TEMPLATE_CACHE, "bench-"));
  try {
    const cold = await buildTemplate({
      output: join(dir, "cold.qcow2"),
      binary: baselineBinary(),
      rootfsCache: join(dir, "rootfs"),
    });
    const warm = await buildTemplate({
      output: join(dir, "warm.qcow2"),
      binary: baselineBinary(),
      rootfsCache: join(dir, "rootfs"),
    });
    return [
      { name: "template build from nothing (mmdebstrap + image)", value: cold.seconds.toFixed(0), unit: "s" },
      { name: "template rebuild, Debian root filesystem cached (baseline)", value: warm.seconds.toFixed(0), unit: "s" },
      { name: "template qcow2 size", value: (cold.manifest.size_bytes / 2 ** 20).toFixed(0), unit: "MiB" },
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function benchP1(): Promise<BenchRow[]> {
  const dry = await EngineEnv.create();
  let baseline: number;
  try {
    const engine = dry.startEngine();
    await dry.buy(1, 30n);
    const mined = performance.now();
    await eventually(async () => {
      const [v] = await dry.vms();
      return v?.nft_minted;
    }, "dry-run NFT");
    baseline = (performance.now() - mined) / 1000;
    await engine.stop();
  } finally {
    await dry.stop();
  }

  const host = await startLibvirtEngineHost({ guestAgentTimeoutS: 900 });
  const env = host.env;
  const engine = env.startEngine();
  try {
    await env.buy(1, 30n);
    const mined = Date.now();
    const vm = await eventually(
      async () => {
        const [v] = await env.vms();
        return v?.nft_minted ? v : null;
      },
      "libvirt VM + NFT",
      1000,
    );
    const key = privateKeyToAccount(env.anvil.accounts[1]!.privateKey);
    await eventually(
      async () => (await walletSshLogin(vm.ipv6_address!, "admin", key, 180_000)).ok,
      "first login",
      1000,
    );
    const t = p1Split(engine.events(), vm.vm_name, mined, Date.now());
    const rss = qemuRssMiB(vm.vm_name);
    return [
      {
        name: `P1 purchase mined → first wallet SSH login (libvirt, ${t.accel ?? "?"})`,
        value: t.p1.toFixed(1),
        unit: "s",
      },
      { name: "  of which chain wait (mined → create starts)", value: t.chainWait.toFixed(1), unit: "s" },
      { name: "  of which create (overlay, seed, define)", value: t.create.toFixed(1), unit: "s" },
      { name: "  of which boot → SSH login (incl. NFT mint)", value: t.bootToLogin.toFixed(1), unit: "s" },
      { name: "qemu RSS of the running VM (after the login)", value: rss?.toFixed(0) ?? "?", unit: "MiB" },
      { name: "baseline: purchase mined → NFT minted, dry-run backend", value: baseline.toFixed(1), unit: "s" },
    ];
  } finally {
    await engine.stop();
    await host.stop();
  }
}
