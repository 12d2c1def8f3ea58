/** The `backend` and `template` steps on libvirt: the host check through the agent; the template build. */
import { existsSync } from "node:fs";
import { freeSpaceGb } from "../../core/disk-space.ts";
import { BlockhostError } from "../../core/errors.ts";
import { paths } from "../../core/paths.ts";
import { checkLibvirtHost } from "../../provision/backends/libvirt-check.ts";
import { buildTemplate } from "../../template/build.ts";
import { defaultGuestBinary, defaultTemplatePath } from "../../template/defaults.ts";
import { directKernelProblem, readManifest } from "../../core/template/manifest.ts";
import type { BackendChoice } from "../schema.ts";
import { type HypervisorSetup, requireBridge } from "./hypervisor-common.ts";

type LibvirtChoice = Extract<BackendChoice, { libvirt: unknown }>["libvirt"];

export function libvirtSetup(lv: LibvirtChoice): HypervisorSetup {
  const template = () => lv.template ?? defaultTemplatePath();
  return {
    check: async (ctx) => {
      requireBridge(ctx, "backend.libvirt.bridge", lv.bridge);
      const path = template();
      const r = await checkLibvirtHost(ctx.agent, { bridge: lv.bridge, network: lv.network, template: path });
      // A missing template is the `template` step's job (it builds one); every other problem stops here.
      const lines = r.lines.filter((l) => !l.startsWith(`problem: no template at ${path}`));
      const problems = lines.filter((l) => l.startsWith("problem: ")).map((l) => l.slice("problem: ".length));
      if (problems.length > 0)
        throw new BlockhostError("E_CONFIG_INVALID", `${ctx.fileName}: backend.libvirt: ${problems.join("; ")}`);
      if (lv.accel === "kvm" && r.accel !== "kvm")
        throw new BlockhostError(
          "E_CONFIG_INVALID",
          `${ctx.fileName}: backend.libvirt.accel: kvm asked, but ${lines.find((l) => l.startsWith("accel"))}`,
        );
      // VM disks are copy-on-write overlays of the template: report the room they grow into, refuse none.
      lines.push(`storage: ${paths.libvirtDir}: ${freeSpaceGb(paths.libvirtDir) ?? "?"} GB free`);
      return { backend: "libvirt", bridge: lv.bridge, network: lv.network ?? null, accel: r.accel, findings: lines };
    },
    ensureTemplate: async (ctx) => {
      const path = template();
      if (existsSync(path)) {
        const m = readManifest(path); // throws naming what is wrong with it
        const wrongBoot = directKernelProblem(m);
        if (wrongBoot) throw new BlockhostError("E_CONFIG_INVALID", `${path}: ${wrongBoot}`);
        return { template: path, built: false, image: m.image, built_at: m.built_at };
      }
      // mmdebstrap and mkfs need root, and the build is not an agent action: say how instead of failing inside.
      if (process.getuid?.() !== 0)
        throw new BlockhostError(
          "E_STATE",
          `no VM template at ${path}: building one needs root (blockhost template build --output ${path}), ` +
            "then retry step template",
        );
      const r = await buildTemplate({ output: path, binary: defaultGuestBinary(), say: ctx.say });
      return { template: path, built: true, image: r.image, seconds: r.seconds };
    },
  };
}
