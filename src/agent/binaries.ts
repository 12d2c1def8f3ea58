/** The programs the agent may run, by absolute path (agent.yaml may override). */
import { type Stats, statSync } from "node:fs";
import { BlockhostError } from "../core/errors.ts";
import { loadConfigFile } from "../core/config/load.ts";
import { paths } from "../core/paths.ts";
import { object, optional, str } from "../core/schema.ts";

/** Every program the agent may run, by absolute path. agent.yaml may point one elsewhere. */
export const DEFAULT_BINARIES = {
  qm: "/usr/sbin/qm",
  /** pve-manager's API shell (bin/Makefile installs it to /usr/bin): the cluster API, on any node. */
  pvesh: "/usr/bin/pvesh",
  ip: "/usr/sbin/ip",
  iptables: "/usr/sbin/iptables",
  ip6tables: "/usr/sbin/ip6tables",
  bridge: "/usr/sbin/bridge",
  nft: "/usr/sbin/nft",
  sysctl: "/usr/sbin/sysctl",
  virsh: "/usr/bin/virsh",
  openssl: "/usr/bin/openssl",
  systemctl: "/usr/bin/systemctl",
  "qemu-img": "/usr/bin/qemu-img",
  genisoimage: "/usr/bin/genisoimage",
  wg: "/usr/bin/wg",
  "wireguard-go": "/usr/bin/wireguard-go",
} as const;

export type BinaryName = keyof typeof DEFAULT_BINARIES;
export type BinaryTable = Record<BinaryName, string>;

const absBinary = str(/^\/[A-Za-z0-9._/+-]{1,255}$/, "an absolute path to a program", 256);
/** Programs the agent no longer runs: an agent.yaml that still names one keeps loading (and is ignored). */
const RETIRED_BINARIES = ["virt-customize"] as const;
const agentConfigSchema = object({
  binaries: optional(
    object(
      Object.fromEntries(
        [...Object.keys(DEFAULT_BINARIES), ...RETIRED_BINARIES].map((k) => [k, optional(absBinary)]),
      ) as Record<BinaryName, ReturnType<typeof optional<string>>>,
    ),
  ),
});

/**
 * Load <root>/etc/blockhost/agent.yaml if present. The agent refuses it unless it is owned by
 * root and not writable by group or others: it decides which programs run as root.
 */
export function loadBinaryTable(file = paths.agentConfig): BinaryTable {
  let st: Stats;
  try {
    st = statSync(file);
  } catch {
    return { ...DEFAULT_BINARIES };
  }
  if (st.uid !== 0)
    throw new BlockhostError("E_CONFIG_INVALID", `${file}: must be owned by root (owner uid is ${st.uid})`);
  if ((st.mode & 0o022) !== 0)
    throw new BlockhostError(
      "E_CONFIG_INVALID",
      `${file}: must not be group- or world-writable (mode ${(st.mode & 0o777).toString(8)})`,
    );
  const cfg = loadConfigFile(file, agentConfigSchema);
  const table: BinaryTable = { ...DEFAULT_BINARIES };
  for (const [k, v] of Object.entries(cfg.binaries ?? {})) if (v && k in DEFAULT_BINARIES) table[k as BinaryName] = v;
  return table;
}
