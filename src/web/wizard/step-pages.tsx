/** The wizard's step forms, filled from the draft or from what was detected on this host. */
import { randomBytes } from "node:crypto";
import { freeSpaceGb } from "../../core/disk-space.ts";
import { paths } from "../../core/paths.ts";
import { defaultProxmoxImage } from "../../setup/steps/hypervisor-proxmox.ts";
import { defaultTemplatePath } from "../../template/defaults.ts";
import { Check, Choice, Field, Select } from "../form.tsx";
import { defaultRoute, detectDisks, detectInterfaces, detectProxmox, primaryIpv4 } from "./detect.ts";
import type { Draft, StepId } from "./draft.ts";
import { StepForm, type PageContext } from "./pages.tsx";

/** Chains the blockchain step offers (RPC URLs are public endpoints the operator may replace). */
export const CHAIN_PRESETS = [
  { id: 8453, name: "Base", rpc: "https://mainnet.base.org" },
  { id: 84532, name: "Base Sepolia", rpc: "https://sepolia.base.org" },
  { id: 1, name: "Ethereum", rpc: "https://ethereum-rpc.publicnode.com" },
  { id: 11155111, name: "Sepolia", rpc: "https://ethereum-sepolia-rpc.publicnode.com" },
];

function NetworkStep({ d }: { d: Draft }) {
  const pool = d.network?.ipv4;
  const route = defaultRoute();
  return (
    <>
      <p id="default-route">
        {route ? `Default route: via ${route.gateway} on ${route.iface}.` : "No default IPv4 route on this host."} This
        page does not change the host's own network configuration.
      </p>
      <h3>Detected interfaces</h3>
      <ul id="interfaces">
        {detectInterfaces().map((i) => (
          <li>
            <code>{i.name}</code>
            {i.bridge ? " (bridge)" : ""}: {i.addresses.join(", ") || "no address"}
          </li>
        ))}
      </ul>
      <h3>Addresses for VMs</h3>
      <Field name="ipv4_network" label="IPv4 network (CIDR)" value={pool?.network ?? "192.168.122.0/24"} required />
      <Field name="ipv4_start" label="First VM address (host number or IPv4)" value={pool?.start ?? 200} required />
      <Field name="ipv4_end" label="Last VM address" value={pool?.end ?? 250} required />
      <Field name="ipv4_gateway" label="Gateway" value={pool?.gateway ?? "192.168.122.1"} required />
      <Field
        name="gc_grace_days"
        label="Days a suspended VM is kept before it is destroyed"
        value={d.network?.gc_grace_days ?? 7}
      />
      <Field name="hostname" label="Host name or address for HTTPS" value={d.https?.hostname ?? primaryIpv4()} />
    </>
  );
}

function StorageStep({ d }: { d: Draft }) {
  const disks = detectDisks();
  const pve = detectProxmox();
  const places = [
    ["VM templates (libvirt)", paths.templatesDir],
    ["images to import (Proxmox) and state", paths.stateDir],
  ] as const;
  return (
    <>
      <p>Finalization does not partition disks: prepare the storage VM disks live on (e.g. LVM) before setup.</p>
      <ul id="free-space">
        {places.map(([what, path]) => (
          <li>
            {what}: <code>{path}</code>, {freeSpaceGb(path) ?? "?"} GB free
          </li>
        ))}
      </ul>
      {pve && (
        <p id="pve-storages">
          Proxmox storages holding VM disks: {pve.storages.length ? pve.storages.join(", ") : "none"}
        </p>
      )}
      <Select
        name="disk"
        label="Disk for VM storage (noted in the summary)"
        empty="(keep the current layout)"
        selected={d.storage?.disk}
        options={disks.map((k) => ({ value: k.name, label: `${k.name} (${k.size_gb} GB)` }))}
      />
    </>
  );
}

function BlockchainStep({ d, deployer }: { d: Draft; deployer: string }) {
  const c = d.chain;
  const existing = c && c.contracts !== "deploy" ? c.contracts : undefined;
  return (
    <>
      <label for="preset">Chain</label>
      <select id="preset">
        <option value="">Custom</option>
        {CHAIN_PRESETS.map((p) => (
          <option value={`${p.id} ${p.rpc}`}>
            {p.name} ({p.id})
          </option>
        ))}
      </select>
      <Field name="chain_id" label="Chain id" value={c?.chain_id} required />
      <Field
        name="rpc_url"
        label="RPC URL"
        value={c?.rpc_url}
        hint="https:// or wss:// (it may carry your provider key: it is never shown to visitors)"
        required
      />
      <Field
        name="public_rpc_url"
        label="Public RPC URL for visitors' wallets (optional)"
        value={c?.public_rpc_url}
        hint="A keyless https:// endpoint offered when a visitor's wallet does not know the chain"
      />
      <button type="button" id="rpc-check" class="secondary">
        Check the RPC
      </button>
      <h3>Deployer wallet</h3>
      <p>
        Address <code id="deployer-address">{deployer}</code> — balance <span id="deployer-balance">unknown</span> ETH.
        It deploys the contracts and pays for every mint, so it needs ETH.
      </p>
      <Field name="fund_amount" label="Amount to send from your wallet (ETH)" value="0.05" />
      <button type="button" id="fund" class="secondary">
        Fund from my wallet
      </button>
      <Field
        name="deployer_key"
        label="Or import a deployer key (hex; leave empty to keep the one above)"
        type="password"
      />
      <h3>Contracts</h3>
      <Choice name="contracts" value="deploy" label="Deploy new contracts" checked={!existing} />
      <Choice name="contracts" value="existing" label="Use existing contracts" checked={!!existing} />
      <Field name="nft" label="AccessCredentialNFT address (existing)" value={existing?.nft} />
      <Field name="subscriptions" label="BlockhostSubscriptions address (existing)" value={existing?.subscriptions} />
      <Field name="stablecoin" label="Stablecoin (empty: the chain's USDC)" value={c?.stablecoin} />
      <h3>Plan</h3>
      <Field name="plan_name" label="Plan name" value={d.plan?.name ?? "Basic VM"} required />
      <Field
        name="plan_price_cents"
        label="Price per day (US cents)"
        value={d.plan?.price_cents_per_day ?? 100}
        required
      />
      <Field name="plan_cpu" label="vCPUs" value={d.plan?.cpu ?? 1} />
      <Field name="plan_memory_mb" label="Memory (MB)" value={d.plan?.memory_mb ?? 2048} />
      <Field name="plan_disk_gb" label="Disk (GB)" value={d.plan?.disk_gb ?? 20} />
      <h3>Revenue share</h3>
      <Check
        name="revenue_enabled"
        label="Share revenue with the BlockHost developers and broker"
        checked={d.revenue_share?.enabled ?? false}
      />
      <Field name="revenue_percent" label="Total percent" value={d.revenue_share?.percent ?? 1} />
    </>
  );
}

function HypervisorStep({ d }: { d: Draft }) {
  const b = d.backend;
  const pve = detectProxmox();
  const lv = b && b !== "dry-run" && "libvirt" in b ? b.libvirt : undefined;
  const px = b && b !== "dry-run" && "proxmox" in b ? b.proxmox : undefined;
  const kind = b === undefined ? (pve ? "proxmox" : "dry-run") : b === "dry-run" ? b : px ? "proxmox" : "libvirt";
  const bridge = px?.bridge ?? lv?.bridge ?? detectInterfaces().find((i) => i.bridge)?.name;
  const range = d.network?.vmid_range;
  return (
    <>
      <p id="pve-detected">
        {pve
          ? `Proxmox VE detected: node ${pve.node}, storages holding VM disks: ${pve.storages.join(", ") || "none"}.`
          : "No Proxmox VE on this host (no /etc/pve/storage.cfg)."}
      </p>
      <Choice
        name="backend"
        value="dry-run"
        label="dry-run (every step but the hypervisor; for trying BlockHost out)"
        checked={kind === "dry-run"}
      />
      <Choice name="backend" value="libvirt" label="libvirt / KVM" checked={kind === "libvirt"} />
      <Choice name="backend" value="proxmox" label="Proxmox VE" checked={kind === "proxmox"} />
      <Field name="bridge" label="Bridge (libvirt, Proxmox)" value={bridge} />
      <button type="button" id="hypervisor-check" class="secondary">
        Check this host
      </button>
      <ul id="hypervisor-findings"></ul>
      <Field name="vmid_start" label="First VMID for customer VMs" value={range?.start ?? 100} />
      <Field name="vmid_end" label="Last VMID" value={range?.end ?? 999} />
      <h3>libvirt</h3>
      <Field
        name="libvirt_network"
        label="libvirt network (optional; VMs join the bridge otherwise)"
        value={lv?.network}
      />
      <Field name="accel" label="Accelerator (auto, kvm or tcg)" value={lv?.accel ?? "auto"} />
      <Field
        name="libvirt_template"
        label="Template image"
        value={lv?.template ?? defaultTemplatePath()}
        hint="Built by the template step when missing (needs root: blockhost template build)."
      />
      <h3>Proxmox</h3>
      <Field name="pve_node" label="Node" value={px?.node ?? pve?.node} />
      <Field name="pve_storage" label="Storage for VM disks" value={px?.storage ?? pve?.storages[0] ?? "local-lvm"} />
      <Field name="template_vmid" label="Template VMID" value={px?.template_vmid ?? 9001} />
      <Field
        name="template_image"
        label="Image to import as the template when that VMID is free"
        value={px?.template_image ?? defaultProxmoxImage()}
      />
      <p id="pve-cluster">
        {pve?.clusterNodes.length
          ? `Proxmox VE cluster detected: nodes ${pve.clusterNodes.join(", ")}. BlockHost can place VMs on all of them.`
          : "This node is not in a Proxmox VE cluster: VMs stay on it."}
      </p>
      <Field
        name="cluster_strategy"
        label="Cluster placement (least_loaded_ram, least_loaded_disk or least_loaded_cpu; empty: this node only)"
        value={px ? px.cluster_strategy : pve?.clusterNodes.length ? "least_loaded_ram" : undefined}
        hint="The node with the most free memory, storage or idle CPU gets each new VM (docs/operator/cluster.md)."
      />
    </>
  );
}

function Ipv6Step({ d }: { d: Draft }) {
  const v6 = d.network?.ipv6 ?? "none";
  const manual = v6 !== "none" && "manual" in v6 ? v6 : undefined;
  const broker = v6 !== "none" && "broker" in v6 ? v6.broker : undefined;
  return (
    <>
      <Choice name="mode" value="none" label="No IPv6 (VMs get private IPv4 only)" checked={v6 === "none"} />
      <Choice name="mode" value="manual" label="A routed IPv6 prefix I have" checked={!!manual} />
      <Choice
        name="mode"
        value="broker"
        label="A prefix from the on-chain tunnel broker (WireGuard)"
        checked={!!broker}
      />
      <h3>Routed prefix</h3>
      <Field name="prefix" label="Prefix (e.g. 2001:db8:1::/64)" value={manual?.manual} />
      <p>
        The host takes <code>prefix::1</code> on the VM bridge and <code>prefix::2</code> as its own address; each VM
        gets a /128 from the rest.
      </p>
      <Field
        name="uplink"
        label="Upstream interface (where the prefix arrives)"
        value={manual ? manual.uplink : detectInterfaces().find((i) => !i.bridge)?.name}
      />
      <Check
        name="ndp_proxy"
        label="Answer neighbour discovery for VM addresses on it (the upstream router treats the prefix as on-link)"
        checked={manual?.ndp_proxy === true}
      />
      <h3>Tunnel broker</h3>
      <p>
        Finalization asks a broker of this registry for a prefix (a transaction from the deployer wallet) and brings up
        the <code>wg-broker</code> WireGuard tunnel to it.
      </p>
      <Field name="registry" label="BrokerRegistry contract (0x…)" value={broker?.registry} />
      <Field name="broker_id" label="Broker number (empty: the first active one)" value={broker?.broker_id} />
    </>
  );
}

function AdminCommandsStep({ d }: { d: Draft }) {
  const k = d.admin_commands && d.admin_commands !== "none" ? d.admin_commands : undefined;
  return (
    <>
      <Check name="enabled" label="Enable on-chain admin commands (port knocking)" checked={!!k} />
      <Field
        name="knock_name"
        label="Knock command name (keep it secret)"
        value={k?.knock_name ?? randomBytes(8).toString("hex")}
      />
      <Field name="ports" label="Ports to open (comma separated)" value={(k?.ports ?? [22]).join(", ")} />
      <Field name="duration" label="Seconds they stay open" value={k?.duration ?? 300} />
    </>
  );
}

const HEADINGS: Record<Exclude<StepId, "summary">, string> = {
  network: "Network",
  storage: "Storage",
  blockchain: "Blockchain",
  hypervisor: "Hypervisor",
  ipv6: "IPv6",
  "admin-commands": "Admin commands",
};

/** The page for one step (not the summary). */
export function StepPage(
  props: PageContext & {
    step: Exclude<StepId, "summary">;
    draft: Draft;
    deployer: string;
    error?: string | undefined;
    submitted?: Record<string, string> | undefined;
  },
) {
  const d = props.draft;
  const body = {
    network: () => <NetworkStep d={d} />,
    storage: () => <StorageStep d={d} />,
    blockchain: () => <BlockchainStep d={d} deployer={props.deployer} />,
    hypervisor: () => <HypervisorStep d={d} />,
    ipv6: () => <Ipv6Step d={d} />,
    "admin-commands": () => <AdminCommandsStep d={d} />,
  }[props.step]();
  const data = { page: props.step, csrf: props.csrf, deployer: props.deployer };
  return (
    <StepForm
      step={props.step}
      heading={HEADINGS[props.step]}
      nonce={props.nonce}
      csrf={props.csrf}
      error={props.error}
      submitted={props.submitted}
      data={data}
    >
      {body}
    </StepForm>
  );
}
