/** The admin panel's Nodes page: what an operator reads about the cluster. */
import { expect, test } from "bun:test";
import { NodesPage } from "../../../src/web/public/admin/nodes-page.tsx";

const frame = { title: "Host", accent: "#336699", nonce: "n", csrf: "c", wallet: "0xabc" };

test("each node's load, BlockHost VMs and why it takes no new VM; VMs on no node are called out", async () => {
  const html = String(
    await (
      <NodesPage
        {...frame}
        cluster={{
          strategy: "least_loaded_ram",
          error: null,
          unplaced: ["web-9"],
          foreign: [],
          nodes: [
            {
              node: "pve1",
              online: true,
              mem_used_mb: 20480,
              mem_total_mb: 32768,
              cpu: 0.25,
              maxcpu: 16,
              vms: 3,
              refusal: null,
            },
            {
              node: "pve2",
              online: true,
              mem_used_mb: 1024,
              mem_total_mb: 65536,
              cpu: 0,
              maxcpu: 8,
              vms: 0,
              refusal: "drained (proxmox.cluster.nodes.pve2.drain)",
            },
          ],
        }}
      />
    ),
  );
  expect(html).toContain("<code>least_loaded_ram</code>");
  expect(html).toMatch(
    /<tr data-node="pve1"><td>pve1<\/td><td>online<\/td><td>20 \/ 32 GiB<\/td><td>25% of 16<\/td><td>3<\/td><td>yes<\/td><\/tr>/,
  );
  expect(html).toContain("<td>no: drained (proxmox.cluster.nodes.pve2.drain)</td>");
  expect(html).toContain("On no node (flagged, not destroyed): web-9");
  expect(String(await (<NodesPage {...frame} cluster={null} />))).toContain("it is its only node");
});
