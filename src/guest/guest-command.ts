/** `blockhost guest`: what runs inside a customer VM at boot (the template's blockhost-firstboot.service). */
import { defineCommand } from "citty";

const firstboot = defineCommand({
  meta: {
    name: "firstboot",
    description:
      "Inside a VM: apply its NoCloud seed (network, DNS, hostname, user, wallet-login files, SSH host keys, disk size) once per instance-id; run by blockhost-firstboot.service",
    examples: ["blockhost guest firstboot"],
  },
  async run() {
    const { firstBoot } = await import("./firstboot.ts");
    process.exitCode = await firstBoot();
  },
});

export default defineCommand({
  meta: {
    name: "guest",
    description: "What runs inside a customer VM (the template calls it; not for the host)",
    examples: ["blockhost guest firstboot"],
  },
  subCommands: { firstboot },
});
