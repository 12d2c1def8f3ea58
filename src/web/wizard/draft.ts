/** What the wizard collects in a session (a setup file in the making), form parsing per step, and the final setup file. */
import { planLimitForm } from "./plan-limits-form.ts";
import type { Hex } from "viem";
import { schemaError, type Infer } from "../../core/schema.ts";
import {
  adminCommandsSchema,
  backendSchema,
  chainSchema,
  httpsSchema,
  ipv6Schema,
  networkSchema,
  planSchema,
  revenueShareSchema,
  setupFileSchema,
  type SetupFile,
  vmidRangeSchema,
} from "../../setup/schema.ts";

export interface Draft {
  admin?: { wallet: Hex; public_secret: string; signature: Hex };
  network?: Infer<typeof networkSchema>;
  https?: Infer<typeof httpsSchema>;
  storage?: { disk: string };
  chain?: Omit<Infer<typeof chainSchema>, "deployer_key_file" | "generate_deployer">;
  /** The deployer key (hex, no 0x): generated here or imported; written 0600 on confirm, kept in the encrypted backup. */
  deployer_key?: string;
  plan?: Infer<typeof planSchema>;
  revenue_share?: Infer<typeof revenueShareSchema>;
  backend?: Infer<typeof backendSchema>;
  admin_commands?: Infer<typeof adminCommandsSchema>;
}

/** The wizard's pages after the wallet gate, in order. */
export const WIZARD_STEPS = [
  { id: "network", title: "Network" },
  { id: "storage", title: "Storage" },
  { id: "blockchain", title: "Blockchain" },
  { id: "hypervisor", title: "Hypervisor" },
  { id: "ipv6", title: "IPv6" },
  { id: "admin-commands", title: "Admin commands" },
  { id: "summary", title: "Summary" },
] as const;
export type StepId = (typeof WIZARD_STEPS)[number]["id"];

export type Form = Record<string, string>;

const text = (f: Form, k: string) => (f[k] ?? "").trim();
const opt = (f: Form, k: string) => text(f, k) || undefined;
/** A form number: digits become a number; anything else stays text so the schema names the field. */
const numeric = (f: Form, k: string): unknown => (/^-?\d+(\.\d+)?$/.test(text(f, k)) ? Number(text(f, k)) : opt(f, k));
const poolBound = (f: Form, k: string): unknown => (/^\d+$/.test(text(f, k)) ? Number(text(f, k)) : opt(f, k));

/** Apply one step's form to the draft; throws an E_SCHEMA error naming the field on bad input. */
export function applyForm(draft: Draft, step: StepId, f: Form): void {
  switch (step) {
    case "network":
      draft.network = networkSchema.parse(
        {
          ipv4: {
            network: opt(f, "ipv4_network"),
            start: poolBound(f, "ipv4_start"),
            end: poolBound(f, "ipv4_end"),
            gateway: opt(f, "ipv4_gateway"),
          },
          ipv6: draft.network?.ipv6 ?? "none",
          vmid_range: draft.network?.vmid_range,
          gc_grace_days: numeric(f, "gc_grace_days"),
        },
        "network",
      );
      draft.https = httpsSchema.parse({ hostname: opt(f, "hostname") }, "https");
      return;
    case "storage":
      draft.storage = { disk: text(f, "disk").slice(0, 64) };
      return;
    case "blockchain": {
      const contracts =
        text(f, "contracts") === "existing" ? { nft: opt(f, "nft"), subscriptions: opt(f, "subscriptions") } : "deploy";
      draft.chain = chainSchema.parse(
        {
          chain_id: numeric(f, "chain_id"),
          rpc_url: opt(f, "rpc_url"),
          public_rpc_url: opt(f, "public_rpc_url"),
          contracts,
          stablecoin: opt(f, "stablecoin"),
          // The wizard always supplies the key itself; the schema wants exactly one source.
          generate_deployer: true,
        },
        "chain",
      );
      delete (draft.chain as { generate_deployer?: boolean }).generate_deployer;
      const imported = opt(f, "deployer_key");
      if (imported !== undefined) {
        if (!/^(0x)?[0-9a-fA-F]{64}$/.test(imported)) throw schemaError("deployer_key", "a 64-digit hex private key");
        draft.deployer_key = imported.replace(/^0x/, "").toLowerCase();
      }
      draft.plan = planSchema.parse(
        {
          name: opt(f, "plan_name"),
          price_cents_per_day: numeric(f, "plan_price_cents"),
          cpu: numeric(f, "plan_cpu"),
          memory_mb: numeric(f, "plan_memory_mb"),
          disk_gb: numeric(f, "plan_disk_gb"),
          ...planLimitForm(f, (k) => numeric(f, k)),
        },
        "plan",
      );
      draft.revenue_share = revenueShareSchema.parse(
        { enabled: f.revenue_enabled === "on", percent: numeric(f, "revenue_percent") },
        "revenue_share",
      );
      return;
    }
    case "hypervisor": {
      if (!draft.network) throw schemaError("network", "the network step first");
      const kind = text(f, "backend");
      const backend =
        kind === "libvirt"
          ? {
              libvirt: {
                bridge: opt(f, "bridge"),
                network: opt(f, "libvirt_network"),
                accel: opt(f, "accel"),
                template: opt(f, "libvirt_template"),
              },
            }
          : kind === "proxmox"
            ? {
                proxmox: {
                  node: opt(f, "pve_node"),
                  storage: opt(f, "pve_storage"),
                  bridge: opt(f, "bridge"),
                  template_vmid: numeric(f, "template_vmid"),
                  template_image: opt(f, "template_image"),
                  cluster_strategy: opt(f, "cluster_strategy"),
                },
              }
            : kind;
      const parsed = backendSchema.parse(backend, "backend");
      const range = vmidRangeSchema.parse(
        { start: numeric(f, "vmid_start"), end: numeric(f, "vmid_end") },
        "vmid_range",
      );
      if (range.start > range.end) throw schemaError("vmid_range", "a first VMID no larger than the last");
      const px = parsed !== "dry-run" && "proxmox" in parsed ? parsed.proxmox : undefined;
      if (px && px.template_vmid >= range.start && px.template_vmid <= range.end)
        throw schemaError(
          "backend.proxmox.template_vmid",
          `a VMID outside the customer range ${range.start}-${range.end}`,
        );
      draft.backend = parsed;
      draft.network.vmid_range = range;
      return;
    }
    case "ipv6": {
      const ipv6 = ipv6Schema.parse(
        text(f, "mode") === "manual"
          ? { manual: opt(f, "prefix"), uplink: opt(f, "uplink"), ndp_proxy: f.ndp_proxy === "on" }
          : text(f, "mode") === "broker"
            ? { broker: { registry: opt(f, "registry"), broker_id: numeric(f, "broker_id") } }
            : text(f, "mode"),
        "ipv6",
      );
      if (!draft.network) throw schemaError("network", "the network step first");
      draft.network.ipv6 = ipv6;
      return;
    }
    case "admin-commands": {
      const enabled = f.enabled === "on";
      const ports = text(f, "ports")
        .split(/[\s,]+/)
        .filter(Boolean)
        .map((p) => (/^\d+$/.test(p) ? Number(p) : p));
      draft.admin_commands = adminCommandsSchema.parse(
        enabled ? { knock_name: opt(f, "knock_name"), ports, duration: numeric(f, "duration") } : "none",
        "admin_commands",
      );
      return;
    }
    case "summary":
      return;
  }
}

/** The steps the draft still lacks (the summary lists them; finalize needs none missing). */
export function missingSteps(d: Draft): string[] {
  const missing: string[] = [];
  if (!d.admin) missing.push("wallet");
  if (!d.network) missing.push("network");
  if (!d.chain || !d.plan || !d.deployer_key) missing.push("blockchain");
  if (!d.backend) missing.push("hypervisor");
  return missing;
}

/** The setup file this draft makes, naming the files the wizard writes for the signature and the deployer key. */
export function toSetupFile(d: Draft, files: { signature: string; deployerKey: string }): SetupFile {
  const missing = missingSteps(d);
  if (missing.length > 0) throw schemaError(missing[0]!, `the ${missing.join(", ")} step(s) to be completed`);
  return setupFileSchema.parse(
    {
      admin: { wallet: d.admin!.wallet, public_secret: d.admin!.public_secret, signature_file: files.signature },
      chain: { ...d.chain, deployer_key_file: files.deployerKey },
      plan: d.plan,
      revenue_share: d.revenue_share,
      backend: d.backend,
      network: d.network,
      https: d.https,
      admin_commands: d.admin_commands,
    },
    "",
  );
}
