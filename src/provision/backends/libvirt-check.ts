/** The libvirt host check setup's `backend` step runs: daemon, accelerator, network, bridge and template. */
import { existsSync } from "node:fs";
import { directKernelProblem, readManifest } from "../../core/template/manifest.ts";
import type { AgentCaller } from "./types.ts";

export interface LibvirtCheck {
  ok: boolean;
  /** One line per finding; problems start with "problem:". */
  lines: string[];
  accel: "kvm" | "tcg" | null;
}

/**
 * Ask the agent what the host offers and read the template's manifest. Not ok when libvirt does
 * not answer, the network is inactive, the bridge is missing or the template is absent or invalid;
 * TCG is reported (VMs work, slowly) but is not a failure.
 */
export async function checkLibvirtHost(
  agent: AgentCaller,
  cfg: { bridge: string; network?: string; template: string },
): Promise<LibvirtCheck> {
  const lines: string[] = [];
  const r = await agent.call("libvirt-host-check", {
    bridge: cfg.bridge,
    ...(cfg.network ? { network: cfg.network } : {}),
  });
  if (r.reachable !== true)
    return {
      ok: false,
      accel: null,
      lines: [`problem: libvirt does not answer on qemu:///system (${String(r.reason)})`],
    };
  let ok = true;
  const accel = r.accel === "kvm" ? "kvm" : "tcg";
  lines.push(`libvirt ${String(r.libvirt)}, QEMU ${String(r.qemu)}`);
  lines.push(
    accel === "kvm"
      ? "accelerator: KVM"
      : `accelerator: QEMU TCG, software emulation (${String(r.accel_reason)}): VMs work but are several times slower`,
  );
  if (cfg.network && r.network_active !== true) {
    ok = false;
    lines.push(`problem: libvirt network ${cfg.network} is not active (virsh net-start ${cfg.network})`);
  }
  if (r.bridge_exists !== true) {
    ok = false;
    lines.push(`problem: bridge ${cfg.bridge} does not exist`);
  }
  if (!existsSync(cfg.template)) {
    ok = false;
    lines.push(`problem: no template at ${cfg.template} (blockhost template build)`);
  } else {
    try {
      const m = readManifest(cfg.template);
      const wrongBoot = directKernelProblem(m);
      if (wrongBoot) {
        ok = false;
        lines.push(`problem: ${wrongBoot}`);
      } else lines.push(`template ${m.image}: Debian ${m.debian_suite}, built ${m.built_at}`);
    } catch (e) {
      ok = false;
      lines.push(`problem: ${(e as Error).message}`);
    }
  }
  return { ok, accel, lines };
}
