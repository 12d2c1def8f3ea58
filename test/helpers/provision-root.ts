/** A temp root with config for provisioning tests. */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "./binary.ts";

export interface ProvisionRootOptions {
  backend?: "dry-run" | "proxmox" | "libvirt";
  ipPool?: string;
  ipv6Prefix?: string;
  vmidRange?: { start: number; end: number };
  extraBlockhostYaml?: string;
}

/**
 * A BLOCKHOST_ROOT with db.yaml, blockhost.yaml (and optionally broker-allocation.json) for
 * provisioning tests. Returns the root and its cleanup.
 */
export function provisionRoot(opts: ProvisionRootOptions = {}): { root: string; cleanup: () => void } {
  const { dir, cleanup } = tempDir("blockhost-prov-");
  const etc = join(dir, "etc/blockhost");
  mkdirSync(etc, { recursive: true });
  const range = opts.vmidRange ?? { start: 100, end: 999 };
  writeFileSync(
    join(etc, "db.yaml"),
    [
      `vmid_range: {start: ${range.start}, end: ${range.end}}`,
      `ip_pool: ${opts.ipPool ?? "{network: '192.168.122.0/24', start: 200, end: 250, gateway: '192.168.122.1'}"}`,
      "gc_grace_days: 7",
      "",
    ].join("\n"),
  );
  writeFileSync(
    join(etc, "blockhost.yaml"),
    [
      "server: {key_file: /etc/blockhost/server.key}",
      `backend: ${opts.backend ?? "dry-run"}`,
      opts.extraBlockhostYaml ?? "",
      "",
    ].join("\n"),
  );
  if (opts.ipv6Prefix)
    writeFileSync(
      join(etc, "broker-allocation.json"),
      JSON.stringify({ prefix: opts.ipv6Prefix, dns_zone: "vm.example" }),
    );
  return { root: dir, cleanup };
}
