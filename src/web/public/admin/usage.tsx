/**
 * The admin panel's usage graphs: the host (or one Proxmox node) as the sum of its VMs, and each VM;
 * `.json` beside each page gives the same numbers.
 */
import type { Hono } from "hono";
import { now } from "../../../core/clock.ts";
import { sampledVmNames } from "../../../core/state/usage.ts";
import { getVm, listVms } from "../../../core/state/vms.ts";
import { sumSeries, type UsageRange, type UsageSeries, vmUsageSeries } from "../../../core/usage-series.ts";
import { RangeNav, rangeOf, UsageCharts } from "../../usage-chart.tsx";
import type { ServeDeps } from "../deps.ts";
import type { AdminEnv, AdminKit } from "./kit.tsx";
import { AdminPage, AdminTable } from "./layout.tsx";

const VM_NAME = /^[a-zA-Z0-9][a-zA-Z0-9._-]{0,63}$/;
const NODE = /^[a-zA-Z0-9][a-zA-Z0-9.-]{0,62}$/;

/** Every VM with stored usage, with the node it runs on (null: a single host). */
function sampledVms(deps: ServeDeps): Array<{ name: string; node: string | null }> {
  const nodes = new Map(listVms(deps.db).map((v) => [v.vm_name, v.node]));
  return sampledVmNames(deps.db).map((name) => ({ name, node: nodes.get(name) ?? null }));
}

function hostSeries(deps: ServeDeps, range: UsageRange, node: string | null): UsageSeries {
  const at = now().getTime();
  const vms = sampledVms(deps).filter((v) => node === null || v.node === node);
  return sumSeries(
    vms.map((v) => vmUsageSeries(deps.db, v.name, range, at)),
    range,
    at,
  );
}

export function adminUsageRoutes(app: Hono<AdminEnv>, deps: ServeDeps, kit: AdminKit): void {
  const nodeOf = (q: string | undefined) => (q && NODE.test(q) ? q : null);

  app.get("/usage.json", (c) => c.json(hostSeries(deps, rangeOf(c.req.query("range")), nodeOf(c.req.query("node")))));

  app.get("/usage", (c) => {
    const range = rangeOf(c.req.query("range"));
    const node = nodeOf(c.req.query("node"));
    const vms = sampledVms(deps);
    const nodes = [...new Set(vms.map((v) => v.node).filter((n): n is string => n !== null))].sort();
    const shown = vms.filter((v) => node === null || v.node === node);
    return c.html(
      <AdminPage {...kit.frame(c)} heading="Usage">
        <p>
          {node ? `Node ${node}: the sum of its VMs.` : "This host: the sum of every VM."}{" "}
          {nodes.length > 0 && (
            <span>
              {"Nodes: "}
              {nodes.map((n) => (
                <a href={`/admin/usage?node=${encodeURIComponent(n)}&range=${range}`}>{`${n} `}</a>
              ))}
              {node && <a href={`/admin/usage?range=${range}`}>all</a>}
            </span>
          )}
        </p>
        <RangeNav base={node ? `/admin/usage?node=${encodeURIComponent(node)}` : "/admin/usage"} current={range} />
        <UsageCharts series={hostSeries(deps, range, node)} prefix="host" />
        <h3>Per VM</h3>
        <AdminTable id="usage-vms" heads={["VM", "Node"]}>
          {shown.map((v) => (
            <tr>
              <td>
                <a href={`/admin/usage/vm/${encodeURIComponent(v.name)}?range=${range}`}>{v.name}</a>
              </td>
              <td>{v.node ?? "this host"}</td>
            </tr>
          ))}
        </AdminTable>
      </AdminPage>,
    );
  });

  app.get("/usage/vm/:name{[a-zA-Z0-9][a-zA-Z0-9._-]{0,63}\\.json}", (c) => {
    const name = c.req.param("name").slice(0, -5);
    if (!VM_NAME.test(name) || !getVm(deps.db, name)) return c.json({ error: "no such VM" }, 404);
    return c.json(vmUsageSeries(deps.db, name, rangeOf(c.req.query("range")), now().getTime()));
  });

  app.get("/usage/vm/:name", (c) => {
    const name = c.req.param("name");
    const vm = VM_NAME.test(name) ? getVm(deps.db, name) : null;
    if (!vm) return c.text("no such VM", 404);
    const range = rangeOf(c.req.query("range"));
    return c.html(
      <AdminPage {...kit.frame(c)} heading="Usage">
        <h3>{`${vm.vm_name} (${vm.status}${vm.node ? `, node ${vm.node}` : ""})`}</h3>
        <p>
          <a href={`/admin/usage?range=${range}`}>All VMs</a>
        </p>
        <RangeNav base={`/admin/usage/vm/${encodeURIComponent(vm.vm_name)}`} current={range} />
        <UsageCharts series={vmUsageSeries(deps.db, vm.vm_name, range, now().getTime())} prefix="vm" />
      </AdminPage>,
    );
  });
}
