/**
 * How the agent reaches a Proxmox VM: `qm` on this node, or the cluster API through `pvesh` for a
 * VM on any node (qm only sees /etc/pve/nodes/<this node>/). pvesh proxies a `/nodes/{node}/…`
 * call to that node over the cluster's SSH (pve-manager PVE/CLI/pvesh.pm, proxy_handler) and runs
 * tasks in the foreground (RESTEnvironment::fork_worker in a CLI environment) but, having no upid
 * exit, exits 0 when the task failed: so every task's status is read back from
 * `/nodes/{node}/tasks/{upid}/status`. The paths are fixed here, built only from a validated
 * node name and VMID: the agent takes no API path from its caller.
 */
import { BlockhostError } from "../core/errors.ts";
import type { ActionContext, RunResult } from "./actions/types.ts";
import { problemLine } from "./run.ts";

/** A task's outcome: `failed` holds the task's error (exitstatus) when it did not end OK. */
export interface TaskResult extends RunResult {
  failed?: string;
}

/** The VM operations the qm-* actions need, on one node. */
export interface VmApi {
  /** How errors name the tool (`qm`, `pvesh`). */
  readonly tool: "qm" | "pvesh";
  config(vmid: number): Promise<Record<string, string>>;
  /** A task: start, stop, shutdown or reboot (300 s), destroy (purge) or template. */
  task(kind: "start" | "stop" | "shutdown" | "reboot" | "destroy" | "template", vmid: number): Promise<TaskResult>;
  set(vmid: number, args: string[]): Promise<RunResult>;
  clone(vmid: number, newid: number, args: string[]): Promise<TaskResult>;
  resize(vmid: number, disk: string, size: string): Promise<TaskResult>;
  /** Offline migration to `target` (local disks are copied; `targetstorage` maps them to that node's storage). */
  migrate(vmid: number, target: string, targetStorage?: string): Promise<TaskResult>;
  status(vmid: number): Promise<string>;
  guestPing(vmid: number): Promise<void>;
  guestExec(vmid: number, command: string[], timeoutS: number): Promise<Record<string, unknown>>;
}

const QM_TASK_ARGV: Record<Parameters<VmApi["task"]>[0], (id: string) => string[]> = {
  start: (id) => ["start", id],
  stop: (id) => ["stop", id],
  shutdown: (id) => ["shutdown", id, "--timeout", "300"],
  reboot: (id) => ["reboot", id, "--timeout", "300"],
  destroy: (id) => ["destroy", id, "--purge"],
  template: (id) => ["template", id],
};

/** `qm` on this node (its exit status: 255 for a failed start/stop/clone/destroy; 0 for resize/template). */
export function qmApi(ctx: ActionContext): VmApi {
  return {
    tool: "qm",
    async config(vmid) {
      return parseQmConfig((await ctx.run("qm", ["config", String(vmid)])).stdout);
    },
    task: (kind, vmid) => ctx.run("qm", QM_TASK_ARGV[kind](String(vmid))),
    set: (vmid, args) => ctx.run("qm", ["set", String(vmid), ...args]),
    clone: (vmid, newid, args) => ctx.run("qm", ["clone", String(vmid), String(newid), ...args]),
    resize: (vmid, disk, size) => ctx.run("qm", ["resize", String(vmid), disk, size]),
    migrate: (vmid, target, targetStorage) =>
      ctx.run("qm", ["migrate", String(vmid), target, ...(targetStorage ? ["--targetstorage", targetStorage] : [])]),
    async status(vmid) {
      const { stdout } = await ctx.run("qm", ["status", String(vmid)]);
      const m = /^status:\s*([a-z-]+)\s*$/m.exec(stdout);
      if (!m) throw new BlockhostError("E_COMMAND_FAILED", `qm status ${vmid}: unexpected output`);
      return m[1]!;
    },
    async guestPing(vmid) {
      await ctx.run("qm", ["guest", "cmd", String(vmid), "ping"]);
    },
    async guestExec(vmid, command, timeoutS) {
      const { stdout } = await ctx.run("qm", [
        "guest",
        "exec",
        String(vmid),
        "--timeout",
        String(timeoutS),
        "--",
        ...command,
      ]);
      return parseJson(stdout, "qm guest exec");
    },
  };
}

/** `qm config` output (`key: value` lines) as a map; other lines (none today) are ignored. */
export function parseQmConfig(stdout: string): Record<string, string> {
  const config: Record<string, string> = {};
  for (const line of stdout.split("\n")) {
    const m = /^([a-z][a-z0-9_-]{0,31}): (.*)$/.exec(line.trimEnd());
    if (m && !Object.hasOwn(config, m[1]!)) config[m[1]!] = m[2]!;
  }
  return config;
}

function parseJson(stdout: string, what: string): Record<string, unknown> {
  let data: unknown;
  try {
    data = JSON.parse(stdout);
  } catch {
    throw new BlockhostError("E_COMMAND_FAILED", `${what}: output is not JSON`);
  }
  if (typeof data !== "object" || data === null || Array.isArray(data))
    throw new BlockhostError("E_COMMAND_FAILED", `${what}: output is not an object`);
  return data as Record<string, unknown>;
}

const UPID_RE =
  /UPID:[A-Za-z0-9-]{1,63}:[0-9A-F]{8}:[0-9A-F]{8,9}:[0-9A-F]{8}:[a-z0-9]{1,20}:[^:\s"\\]{0,64}:[^:\s"\\]{1,64}:/g;

/**
 * pvesh, with the reason of a failure kept: a call proxied to another node fails with that
 * node's error and then `proxy handler failed: command '/usr/bin/ssh … pvesh …' failed: exit
 * code 255` (pvesh.pm proxy_handler); the reason is the line before.
 */
async function runPvesh(ctx: ActionContext, argv: string[]): Promise<RunResult> {
  const r = await ctx.run("pvesh", argv, { okCodes: [0, 1, 2, 255] });
  if (r.code === 0) return r;
  const reason = problemLine(r.stderr.replace(/^proxy handler failed: .*$/gm, "")) || problemLine(r.stderr);
  throw new BlockhostError("E_COMMAND_FAILED", `pvesh exited ${r.code}${reason ? `: ${reason}` : ""}`, {
    binary: "pvesh",
    code: r.code,
    output: reason,
  });
}

/** `pvesh get /cluster/…` read as JSON (the cluster-wide reads: resources, nextid). */
export async function pveshGet(ctx: ActionContext, path: string, args: string[] = []): Promise<unknown> {
  const { stdout } = await runPvesh(ctx, ["get", path, "--output-format", "json", ...args]);
  try {
    return JSON.parse(stdout);
  } catch {
    throw new BlockhostError("E_COMMAND_FAILED", `pvesh get ${path}: output is not JSON`);
  }
}

/** The cluster API on `node` through pvesh. */
export function pveshApi(ctx: ActionContext, node: string): VmApi {
  const vmPath = (vmid: number, sub = "") => `/nodes/${node}/qemu/${vmid}${sub}`;
  const call = (cmd: "get" | "set" | "create" | "delete", path: string, args: string[] = []) =>
    runPvesh(ctx, [cmd, path, "--output-format", "json", ...args]);
  /** Run a task call and read its status: pvesh exits 0 even when the task failed. */
  const task = async (cmd: "set" | "create" | "delete", path: string, args: string[] = []): Promise<TaskResult> => {
    const r = await call(cmd, path, args);
    const upid = [...r.stdout.matchAll(UPID_RE)].at(-1)?.[0];
    if (!upid)
      return r.stdout.trim() === "null" ? r : { ...r, failed: problemLine(r.stderr) || "pvesh returned no task id" };
    const status = parseJson((await call("get", `/nodes/${node}/tasks/${upid}/status`)).stdout, "task status");
    const exit = String(status.exitstatus ?? "");
    return exit === "OK" || /^WARNINGS: \d+$/.test(exit) ? r : { ...r, failed: exit || problemLine(r.stderr) };
  };
  const mustSucceed = async (what: string, p: Promise<TaskResult>): Promise<TaskResult> => {
    const r = await p;
    if (r.failed)
      throw new BlockhostError("E_COMMAND_FAILED", `pvesh ${what} on ${node} failed: ${r.failed}`, {
        binary: "pvesh",
        output: r.failed,
      });
    return r;
  };
  const taskArgs: Record<Parameters<VmApi["task"]>[0], ["create" | "delete", string, string[]]> = {
    start: ["create", "/status/start", []],
    stop: ["create", "/status/stop", []],
    shutdown: ["create", "/status/shutdown", ["--timeout", "300"]],
    reboot: ["create", "/status/reboot", ["--timeout", "300"]],
    destroy: ["delete", "", ["--purge", "1"]],
    template: ["create", "/template", []],
  };
  return {
    tool: "pvesh",
    async config(vmid) {
      const data = parseJson((await call("get", vmPath(vmid, "/config"))).stdout, "vm config");
      return Object.fromEntries(
        Object.entries(data)
          .filter(([k, v]) => k !== "digest" && (typeof v === "string" || typeof v === "number"))
          .map(([k, v]) => [k, String(v)]),
      );
    },
    task(kind, vmid) {
      const [cmd, sub, args] = taskArgs[kind];
      const r = task(cmd, vmPath(vmid, sub), args);
      // template reports through its read-back (the action names the disk), like qm's exit 0.
      return kind === "template" ? r : mustSucceed(`${kind} of VM ${vmid}`, r);
    },
    set: (vmid, args) => call("set", vmPath(vmid, "/config"), args),
    clone: (vmid, newid, args) =>
      mustSucceed(`clone of VM ${vmid}`, task("create", vmPath(vmid, "/clone"), ["--newid", String(newid), ...args])),
    resize: (vmid, disk, size) => task("set", vmPath(vmid, "/resize"), ["--disk", disk, "--size", size]),
    migrate: (vmid, target, targetStorage) =>
      mustSucceed(
        `migration of VM ${vmid} to ${target}`,
        task("create", vmPath(vmid, "/migrate"), [
          "--target",
          target,
          ...(targetStorage ? ["--targetstorage", targetStorage] : []),
        ]),
      ),
    async status(vmid) {
      const data = parseJson((await call("get", vmPath(vmid, "/status/current"))).stdout, "vm status");
      const status = String(data.qmpstatus ?? data.status ?? "");
      if (!/^[a-z-]{1,32}$/.test(status)) throw new BlockhostError("E_COMMAND_FAILED", `VM ${vmid}: unexpected status`);
      return status;
    },
    async guestPing(vmid) {
      await call("create", vmPath(vmid, "/agent/ping"));
    },
    /** POST agent/exec, then poll agent/exec-status until the command exited or the timeout passed (as qm does). */
    async guestExec(vmid, command, timeoutS) {
      const started = parseJson(
        (
          await call(
            "create",
            vmPath(vmid, "/agent/exec"),
            command.flatMap((c) => ["--command", c]),
          )
        ).stdout,
        "guest exec",
      );
      const pid = Number(started.pid);
      if (!Number.isSafeInteger(pid)) throw new BlockhostError("E_COMMAND_FAILED", "guest exec: no pid");
      const deadline = Date.now() + timeoutS * 1000;
      for (;;) {
        const s = parseJson(
          (await call("get", vmPath(vmid, "/agent/exec-status"), ["--pid", String(pid)])).stdout,
          "guest exec-status",
        );
        if (s.exited === 1 || s.exited === true || Date.now() >= deadline) return s.exited ? s : { pid };
        await Bun.sleep(250);
      }
    },
  };
}

/** The API for `node`, or `qm` on this node when no node is named (a single-node host). */
export function vmApi(ctx: ActionContext, node: string | undefined): VmApi {
  return node === undefined ? qmApi(ctx) : pveshApi(ctx, node);
}
