/** `blockhost template build`: build the VM template image both backends boot. */
import { defineCommand } from "citty";
import { resolve } from "node:path";
import { BlockhostError } from "../core/errors.ts";
import { TEMPLATE_BOOT_MODES, type TemplateBootMode, buildTemplate } from "./build.ts";
import { DEFAULT_OS, OS_IDS, parseOsId } from "../core/template/os.ts";
import { defaultGuestBinary, defaultTemplatePath } from "./defaults.ts";

function parseBootMode(v: string | undefined): TemplateBootMode | undefined {
  if (v === undefined) return undefined;
  const mode = TEMPLATE_BOOT_MODES.find((m) => m === v);
  if (!mode)
    throw new BlockhostError(
      "E_USAGE",
      `--boot: expected ${TEMPLATE_BOOT_MODES.join(" or ")}, got ${JSON.stringify(v)}`,
    );
  return mode;
}

const build = defineCommand({
  meta: {
    name: "build",
    description:
      "Build the disk image customer VMs boot from (Debian, cloud-init, guest agent, wallet login); needs root",
    examples: [
      "blockhost template build",
      "blockhost template build --os debian-13",
      "blockhost template build --boot bootloader --output /var/lib/blockhost/images/blockhost-template.qcow2",
    ],
  },
  args: {
    output: {
      type: "string",
      description:
        "Where to write the image (default $BLOCKHOST_ROOT/var/lib/libvirt/blockhost/templates/blockhost-template.qcow2, " +
        "blockhost-template-OS.qcow2 for an OS other than the default, e.g. blockhost-template-debian-13.qcow2)",
      valueHint: "FILE",
    },
    binary: {
      type: "string",
      description: "blockhost binary to install in the image (default: blockhost-baseline next to this one)",
      valueHint: "FILE",
    },
    os: {
      type: "string",
      description: `Operating system: ${OS_IDS.join(" or ")} (default ${DEFAULT_OS})`,
      valueHint: "OS",
    },
    suite: {
      type: "string",
      description: "A Debian release by its suite name instead of --os (default: the suite of --os)",
      valueHint: "SUITE",
    },
    mirror: {
      type: "string",
      description: "Debian mirror (default http://deb.debian.org/debian)",
      valueHint: "URL",
    },
    boot: {
      type: "string",
      description:
        "direct-kernel (default; libvirt boots it with its kernel and initrd beside it) or bootloader " +
        "(a partitioned disk with GRUB, booted from the disk: what the Proxmox template is imported from)",
      valueHint: "MODE",
    },
    "rootfs-cache": {
      type: "string",
      description: "Directory that keeps the downloaded packages' root filesystem, so a rebuild is faster",
      valueHint: "DIR",
    },
  },
  async run({ args }) {
    if (process.getuid?.() !== 0) throw new BlockhostError("E_USAGE", "template build needs root (mmdebstrap, mkfs)");
    const os = args.os === undefined ? undefined : parseOsId(args.os);
    if (os && args.suite) throw new BlockhostError("E_USAGE", "--os and --suite: give one of them");
    const output = resolve(args.output ?? defaultTemplatePath(os));
    const r = await buildTemplate({
      output,
      binary: resolve(args.binary ?? defaultGuestBinary()),
      ...(os ? { os } : {}),
      suite: args.suite,
      mirror: args.mirror,
      boot: parseBootMode(args.boot),
      rootfsCache: args["rootfs-cache"] ? resolve(args["rootfs-cache"]) : undefined,
      say: (l) => process.stderr.write(`${l}\n`),
    });
    process.stdout.write(
      `${r.image} sha256=${r.manifest.sha256} size=${r.manifest.size_bytes} seconds=${r.seconds.toFixed(1)}\n`,
    );
  },
});

export default defineCommand({
  meta: {
    name: "template",
    description: "The disk image every customer VM is created from",
    examples: ["blockhost template build"],
  },
  subCommands: { build },
});
