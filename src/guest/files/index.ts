/** Files the template carries for the first boot, embedded as text: `path` is where each goes in the VM. */
import firstbootUnit from "./blockhost-firstboot.service" with { type: "text" };
import cloudInitShim from "./cloud-init.sh" with { type: "text" };
import hostKeys from "./hostkeys.conf" with { type: "text" };
import ttyS0Wait from "./ttyS0-device-wait.conf" with { type: "text" };
import modprobeBlacklist from "./modprobe-blacklist.conf" with { type: "text" };
import type { VmFile } from "../../vmauth/files/index.ts";

export const FIRSTBOOT_UNIT = "blockhost-firstboot.service";

export const GUEST_FILES: readonly VmFile[] = [
  { path: `/etc/systemd/system/${FIRSTBOOT_UNIT}`, mode: 0o644, content: firstbootUnit },
  { path: "/usr/bin/cloud-init", mode: 0o755, content: cloudInitShim },
  { path: "/etc/ssh/sshd_config.d/10-blockhost-hostkeys.conf", mode: 0o644, content: hostKeys },
  { path: "/etc/systemd/system/dev-ttyS0.device.d/blockhost-wait.conf", mode: 0o644, content: ttyS0Wait },
  { path: "/etc/modprobe.d/blockhost-guest.conf", mode: 0o644, content: modprobeBlacklist },
];
