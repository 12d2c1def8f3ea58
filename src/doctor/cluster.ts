/** Doctor check on a Proxmox cluster: every node answers, and at least one can take a VM of the default plan. */
import type { AgentClient } from "../agent/client.ts";
import { loadBlockhostConfig, loadDbConfig } from "../core/config/index.ts";
import { oneLine } from "../core/errors.ts";
import { openExistingDatabase } from "../core/state/db.ts";
import { clusterLines, clusterStatus } from "../engine/status-nodes.ts";
import { type CheckResult, fail, ok, skip } from "./check.ts";

/** Nothing on a single host; on a cluster, the nodes with their load and BlockHost VMs. */
export async function clusterCheck(agent: AgentClient, agentUp: boolean): Promise<CheckResult[]> {
  const name = "cluster";
  let cfg: ReturnType<typeof loadBlockhostConfig>;
  try {
    cfg = loadBlockhostConfig();
  } catch {
    return [];
  }
  if (cfg.backend !== "proxmox" || !cfg.proxmox?.cluster) return [];
  if (!agentUp) return [skip(name, "the agent does not answer, so the cluster API cannot be asked")];
  let db: ReturnType<typeof openExistingDatabase> | undefined;
  try {
    db = openExistingDatabase();
    const status = await clusterStatus(
      db,
      cfg,
      (() => {
        try {
          return loadDbConfig();
        } catch {
          return null;
        }
      })(),
      agent,
    );
    if (!status) return [];
    const text = clusterLines(status).join("; ").replace(/\s+/g, " ");
    if (status.error) return [fail(name, text, "check that this node is in the cluster: pvecm status")];
    if (status.nodes.every((n) => n.refusal))
      return [
        fail(name, text, "free a node, add one (docs/operator/cluster.md) or raise its caps in proxmox.cluster.nodes"),
      ];
    return [ok(name, text)];
  } catch (e) {
    return [fail(name, oneLine(e), "run blockhost finalize first, then check the agent")];
  } finally {
    db?.close();
  }
}
