/** Pick the hypervisor backend blockhost.yaml names. */
import type { BlockhostConfig } from "../../core/config/schemas.ts";
import { BlockhostError } from "../../core/errors.ts";
import { join } from "node:path";
import { paths } from "../../core/paths.ts";
import { DryRunBackend } from "./dry-run.ts";
import { LibvirtBackend } from "./libvirt.ts";
import { ProxmoxBackend } from "./proxmox.ts";
import type { AgentCaller } from "./types.ts";
import type { Backend } from "./types.ts";
import type { OsId } from "../../core/template/os.ts";

export type { Backend, Say, VmRef, VmSpec } from "./types.ts";

/**
 * The backend blockhost.yaml names (`backend:`), built from its settings (ndpUplink: db.yaml
 * ipv6_pool.ndp_proxy_dev; vmidRange: db.yaml vmid_range, what a cluster's per-node caps count).
 */
export function selectBackend(
  cfg: BlockhostConfig,
  agent?: AgentCaller,
  ndpUplink?: string,
  vmidRange?: { start: number; end: number },
): Backend {
  switch (cfg.backend) {
    case "dry-run":
      return new DryRunBackend();
    case "proxmox": {
      const px = cfg.proxmox;
      if (!px)
        throw new BlockhostError(
          "E_CONFIG_INVALID",
          `${paths.blockhostConfig}: proxmox: expected the proxmox section (node, storage, bridge) for backend proxmox`,
        );
      return new ProxmoxBackend(
        {
          bridge: px.bridge,
          templateVmid: px.template_vmid ?? 9001,
          ...(px.template_vmids ? { templateVmids: px.template_vmids as Partial<Record<OsId, number>> } : {}),
          ...(px.snippet_storage ? { snippetStorage: px.snippet_storage } : {}),
          guestAgentTimeoutMs: 180_000,
          ndpUplink,
          ...(px.cluster
            ? {
                cluster: {
                  localNode: px.node,
                  settings: px.cluster,
                  defaults: { storage: px.storage, bridge: px.bridge, templateVmid: px.template_vmid ?? 9001 },
                  vmidRange,
                  snippetStorage: px.snippet_storage,
                },
              }
            : {}),
        },
        agent,
      );
    }
    case "libvirt": {
      const lv = cfg.libvirt;
      if (!lv)
        throw new BlockhostError(
          "E_CONFIG_INVALID",
          `${paths.blockhostConfig}: libvirt: expected the libvirt section (bridge, network, template) for backend libvirt`,
        );
      return new LibvirtBackend(
        {
          bridge: lv.bridge,
          network: lv.network,
          template: lv.template ?? join(paths.templatesDir, "blockhost-template.qcow2"),
          accel: lv.accel,
          guestAgentTimeoutMs: (lv.guest_agent_timeout_s ?? 600) * 1000,
          ndpUplink,
        },
        agent,
      );
    }
    default:
      throw new BlockhostError(
        "E_CONFIG_INVALID",
        `${paths.blockhostConfig}: backend: ${cfg.backend} is not available in this build (use proxmox, libvirt or dry-run)`,
      );
  }
}
