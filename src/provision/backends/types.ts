/** The interface every hypervisor backend implements. */
import type { AgentClient } from "../../agent/client.ts";
import type { Allocation } from "../allocate.ts";
import type { CloudInit } from "../cloud-init.ts";
import type { OsId } from "../../core/template/os.ts";
import type { Ipv4Pool } from "../../core/config/network.ts";
import type { RawUsage } from "../../core/usage-counters.ts";

/** What a backend needs of the agent client: one call. */
export type AgentCaller = Pick<AgentClient, "call">;

/** A VM as a backend sees it. */
export interface VmRef {
  name: string;
  vmid: number;
  ipv6: string | null;
}

/** Everything a backend needs to build one VM. */
export interface VmSpec extends VmRef {
  cpu: number;
  memoryMb: number;
  diskGb: number;
  allocation: Allocation;
  cloudInit: CloudInit;
  /** The OS the VM is created from (its template); the default OS when absent. */
  os?: OsId;
  /** cloud-init's instance-id; a new one on reinstall makes first boot run again. */
  instanceId?: string;
  /** Preflight's placement of this VM (a cluster); without it the backend places the VM itself. */
  placement?: Placement;
}

/** What a create reports beyond success: the cluster node the VM was placed on. */
export interface CreateResult {
  node?: string;
}

/** What preflight weighs: the plan's size and OS; for a VM that keeps its IPv4 address, the nodes whose pool holds it. */
export interface PreflightPlan {
  diskGb: number;
  memoryMb?: number;
  os?: OsId;
  keepAddress?: { address: string; holds(node: string, address: string): boolean };
}

/** Where preflight placed a VM (a cluster node); `release` stops counting it there (idempotent). */
export interface Placement {
  node: string;
  release(): void;
}

export interface GuestExecResult {
  exitcode: number;
  stdout: string;
  stderr: string;
}

/** Progress lines for the operator (stderr); never secrets. */
export type Say = (line: string) => void;

/**
 * A hypervisor. `create` either leaves a running VM or, on any failure, undoes every step it
 * took and throws. `destroy` is idempotent: a VM that is already gone is success.
 */
export interface Backend {
  readonly name: "proxmox" | "libvirt" | "dry-run";
  /** True when nothing reaches a hypervisor (printed with every result). */
  readonly simulated: boolean;
  /**
   * Checks that need no allocation (the template can serve this disk): run before a VMID is spent.
   * On a cluster it also places the VM: the placement counts against its node until released, and
   * goes to `create` in the spec, so the cluster is read once per create.
   */
  preflight?(plan: PreflightPlan): Promise<Placement | undefined>;
  /** A node's own IPv4 pool (a cluster node on its own segment); undefined: db.yaml's shared pool. */
  ipv4PoolOf?(node: string): Ipv4Pool | undefined;
  create(spec: VmSpec, say: Say): Promise<void | CreateResult>;
  start(vm: VmRef, say: Say): Promise<void>;
  /** Graceful shutdown, falling back to a hard stop. */
  shutdown(vm: VmRef, say: Say): Promise<void>;
  /** Hard stop (power off). */
  kill(vm: VmRef, say: Say): Promise<void>;
  /** ACPI reboot of a running VM (the guest restarts itself); refused when it is not running. */
  reboot(vm: VmRef, say: Say): Promise<void>;
  destroy(vm: VmRef, say: Say): Promise<void>;
  /** Re-apply host-side networking after a start (IPv6 host route). */
  restoreNetwork(vm: VmRef, say: Say): Promise<void>;
  guestExec(vm: VmRef, argv: string[]): Promise<GuestExecResult>;
  /**
   * The hypervisor's power state: running, stopped, paused, missing (no such VM) or the hypervisor's
   * own word; null when nothing asks a hypervisor (dry-run).
   */
  powerState?(vm: VmRef): Promise<string | null>;
  /** False when the hypervisor (a Proxmox cluster) already has a guest with this VMID. */
  vmidFree?(vmid: number): Promise<boolean>;
  /** vmid → node of every guest of a cluster (null: not a cluster); what the reconciler follows moves with. */
  locateAll?(): Promise<Map<number, string> | null>;
  /**
   * One raw usage reading (core/usage-counters.ts) of each of these VMs that is running, read in one
   * hypervisor call for all of them; VMs not running are left out. `at` is the reading's time.
   */
  sampleUsage?(vms: readonly VmRef[], at: number): Promise<RawUsage[]>;
}
