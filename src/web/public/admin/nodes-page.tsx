/** The admin panel's Proxmox cluster page: each node's load, BlockHost VMs, and why it takes no new VM. */
import type { ClusterStatus } from "../../../engine/status-nodes.ts";
import { type AdminFrame, AdminPage, AdminTable } from "./layout.tsx";

export function NodesPage(props: AdminFrame & { cluster: ClusterStatus | null }) {
  const c = props.cluster;
  return (
    <AdminPage {...props} heading="Nodes">
      {!c ? (
        <p>This host is not set up for a Proxmox cluster (blockhost.yaml proxmox.cluster): it is its only node.</p>
      ) : c.error ? (
        <p role="alert">The cluster API did not answer: {c.error}</p>
      ) : (
        <>
          <p>
            New VMs go to the node with the most headroom: <code>{c.strategy}</code>.
          </p>
          <AdminTable id="node-table" heads={["Node", "State", "Memory", "CPU", "BlockHost VMs", "New VMs"]}>
            {c.nodes.map((n) => (
              <tr data-node={n.node}>
                <td>{n.node}</td>
                <td>{n.online ? "online" : "offline"}</td>
                <td>
                  {Math.round(n.mem_used_mb / 1024)} / {Math.round(n.mem_total_mb / 1024)} GiB
                </td>
                <td>
                  {(n.cpu * 100).toFixed(0)}% of {n.maxcpu}
                </td>
                <td>{n.vms}</td>
                <td>{n.refusal ? `no: ${n.refusal}` : "yes"}</td>
              </tr>
            ))}
          </AdminTable>
          {c.unplaced.length > 0 && <p role="alert">On no node (flagged, not destroyed): {c.unplaced.join(", ")}</p>}
          {c.foreign.length > 0 && (
            <p role="alert">Address not in their node's IPv4 pool (migrate back): {c.foreign.join(", ")}</p>
          )}
        </>
      )}
    </AdminPage>
  );
}
