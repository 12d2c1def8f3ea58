/** The root-owned config the agent's scope rules read (src/agent/scope.ts), for tests that drive actions directly. */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export interface ScopeConfig {
  readonly vmidRange?: { start: number; end: number };
  readonly templateVmid?: number;
  readonly bridge?: string;
  /** db.yaml ipv6_pool.prefix (a manual prefix). */
  readonly ipv6Prefix?: string;
  /** allowed_ports of one knock command in admin-commands.json. */
  readonly knockPorts?: readonly number[];
}

/**
 * Write db.yaml, blockhost.yaml and admin-commands.json under `<root>/etc/blockhost` so the given
 * VMIDs, bridge, prefix and ports are BlockHost's. Existing files are replaced.
 */
export function writeScopeConfig(root: string, c: ScopeConfig = {}): void {
  const etc = join(root, "etc/blockhost");
  mkdirSync(etc, { recursive: true });
  const range = c.vmidRange ?? { start: 100, end: 999 };
  const db = [
    `bridge: ${c.bridge ?? "vmbr0"}`,
    `vmid_range: {start: ${range.start}, end: ${range.end}}`,
    "ip_pool: {network: '192.168.122.0/24', start: 200, end: 250, gateway: '192.168.122.1'}",
    ...(c.ipv6Prefix ? [`ipv6_pool: {prefix: '${c.ipv6Prefix}'}`] : []),
    "",
  ];
  writeFileSync(join(etc, "db.yaml"), db.join("\n"));
  writeFileSync(
    join(etc, "blockhost.yaml"),
    [
      "server: {key_file: /etc/blockhost/server.key}",
      "backend: proxmox",
      `proxmox: {node: pve, storage: local-lvm, bridge: ${c.bridge ?? "vmbr0"}, template_vmid: ${c.templateVmid ?? 9000}}`,
      "",
    ].join("\n"),
  );
  const commands = { "scope-test-knock": { action: "knock", params: { allowed_ports: [...(c.knockPorts ?? [22])] } } };
  writeFileSync(join(etc, "admin-commands.json"), JSON.stringify({ commands }));
}
