/** `blockhost import`: migrate an original BlockHost host (its /etc/blockhost files and vms.json). */
import { defineCommand } from "citty";
import { BlockhostError } from "../core/errors.ts";

export default defineCommand({
  meta: { name: "import", description: "Migrate the original BlockHost's /etc/blockhost files and vms.json into this host" },
  args: {},
  run() {
    throw new BlockhostError("E_USAGE", "not yet");
  },
});
