/** VM lifecycle jobs: requests (checks, one job per VM, rate limits) and runs (dry-run backend, holder check, reinstall). */
import { afterEach, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { paths } from "../../../src/core/paths.ts";
import { claimJobByKey, claimNextJob, jobByKey, type Job, troubledJobs } from "../../../src/core/state/jobs.ts";
import { setMeta } from "../../../src/core/state/meta.ts";
import { getVm, requireVm, updateVm } from "../../../src/core/state/vms.ts";
import { JobQueue } from "../../../src/engine/queue.ts";
import { ENGINE_PID_KEY } from "../../../src/engine/vm-follow.ts";
import { runVmJob, type VmJobContext } from "../../../src/engine/vm-jobs.ts";
import { requestVmAction, VM_ACTION_LIMITS, type VmActionRequest } from "../../../src/engine/vm-requests.ts";
import { runVmAction } from "../../../src/engine/vm-run.ts";
import { DryRunBackend } from "../../../src/provision/backends/dry-run.ts";
import { openProvisioner, type Provisioner } from "../../../src/provision/context.ts";
import { applyCreate } from "../../../src/provision/create.ts";
import { provisionRoot } from "../../helpers/provision-root.ts";

const ALICE = "0x1111111111111111111111111111111111111111";
const BOB = "0x2222222222222222222222222222222222222222";

let env: { root: string; cleanup: () => void };
let p: Provisioner;
let said: string[];
let holder: string;
let ctx: VmJobContext;

async function setup(extraYaml = "") {
  env = provisionRoot({ ipv6Prefix: "2001:db8:7::/120", extraBlockhostYaml: extraYaml });
  process.env.BLOCKHOST_ROOT = env.root;
  said = [];
  p = openProvisioner({ backend: new DryRunBackend(), say: (l) => said.push(l) });
  holder = ALICE;
  ctx = {
    db: p.db,
    provisioner: p,
    queue: new JobQueue(p.db, { baseMs: 10, maxMs: 100 }),
    holderOf: async () => holder,
  };
  await applyCreate(p, {
    name: "web1",
    ownerWallet: ALICE,
    expiresAt: new Date(Date.now() + 30 * 86_400_000),
    cpu: 2,
    memoryMb: 2048,
    diskGb: 20,
    username: "admin",
    subscriptionId: 7,
    purpose: "subscription",
  });
  updateVm(p.db, "web1", { nft_token_id: 3, nft_minted: true });
}

afterEach(() => {
  p?.db.close();
  env?.cleanup();
  delete process.env.BLOCKHOST_ROOT;
});

/** Ask, then run the job the way the engine does (claim, run, complete or fail), returning its row. */
async function askAndRun(req: VmActionRequest): Promise<Job> {
  const key = requestVmAction(p.db, req);
  const job = claimJobByKey(p.db, key)!;
  try {
    await runVmJob(ctx, job);
    ctx.queue.complete(job.id);
  } catch (e) {
    ctx.queue.fail(job, (e as Error).message, true);
  }
  return jobByKey(p.db, key)!;
}

describe("power jobs", () => {
  test("each power operation is one job that reaches the backend and records the power state", async () => {
    await setup();
    for (const [action, line, power] of [
      ["shutdown", "would shut down web1", "stopped"],
      ["start", "would start web1", "running"],
      ["reboot", "would reboot web1", "running"],
      ["off", "would power off web1", "stopped"],
    ] as const) {
      said = [];
      const job = await askAndRun({ vm: "web1", action, by: `wallet:${ALICE}` });
      expect(job).toMatchObject({ state: "done", kind: "power" });
      expect(said.join("\n")).toContain(line);
      expect(requireVm(p.db, "web1").extra.power).toBe(power);
    }
  });

  test("one job per VM at a time: a second request while one waits is refused", async () => {
    await setup();
    const first = requestVmAction(p.db, { vm: "web1", action: "shutdown", by: "cli" });
    expect(() => requestVmAction(p.db, { vm: "web1", action: "start", by: `admin:${BOB}` })).toThrow(
      `web1 is busy with ${first}`,
    );
    await runVmJob(ctx, claimJobByKey(p.db, first)!);
    ctx.queue.complete(jobByKey(p.db, first)!.id);
    expect(requestVmAction(p.db, { vm: "web1", action: "start", by: "cli" })).toStartWith("power:web1:");
  });

  test("a suspended (expired) VM refuses start and reboot until extended; shutdown still works", async () => {
    await setup();
    updateVm(p.db, "web1", { status: "suspended" });
    for (const action of ["start", "reboot", "reinstall"] as const)
      expect(() => requestVmAction(p.db, { vm: "web1", action, by: `wallet:${ALICE}` })).toThrow(
        /suspended since its subscription expired/,
      );
    expect(() => requestVmAction(p.db, { vm: "web1", action: "start", by: "cli" })).toThrow(/extend the subscription/);
    expect((await askAndRun({ vm: "web1", action: "shutdown", by: `wallet:${ALICE}` })).state).toBe("done");
    // Lapsed while the job waited: the run refuses too, and the job is dead, not retried.
    updateVm(p.db, "web1", { status: "active" });
    const key = requestVmAction(p.db, { vm: "web1", action: "start", by: `wallet:${ALICE}` });
    updateVm(p.db, "web1", { expires_at: "2020-01-01T00:00:00Z" });
    const job = claimJobByKey(p.db, key)!;
    await expect(runVmJob(ctx, job)).rejects.toMatchObject({ code: "E_VM_SUSPENDED" });
    expect(said.join("\n")).not.toContain("would start");
  });

  test("the wallet must hold the NFT when the job runs: after a transfer the old holder is refused, the new one served", async () => {
    await setup();
    const key = requestVmAction(p.db, { vm: "web1", action: "reboot", by: `wallet:${ALICE}` });
    holder = BOB; // transferred while the job waited
    const job = claimJobByKey(p.db, key)!;
    await expect(runVmJob(ctx, job)).rejects.toMatchObject({ code: "E_AUTH_DENIED" });
    ctx.queue.fail(job, "refused", true);
    expect(said.join("\n")).not.toContain("would reboot");
    // The customer sees the refusal on the page; it is not an operator's failing job.
    expect(troubledJobs(p.db, 10).map((j) => j.key)).not.toContain(key);
    expect((await askAndRun({ vm: "web1", action: "reboot", by: `wallet:${BOB}` })).state).toBe("done");
    expect(said.join("\n")).toContain("would reboot web1");
  });

  test("customers are rate limited per server and per wallet; the operator is not; customers cannot destroy", async () => {
    await setup();
    const n = VM_ACTION_LIMITS.perServer.count;
    for (let i = 0; i < n; i++)
      expect((await askAndRun({ vm: "web1", action: i % 2 ? "start" : "shutdown", by: `wallet:${ALICE}` })).state).toBe(
        "done",
      );
    expect(() => requestVmAction(p.db, { vm: "web1", action: "shutdown", by: `wallet:${ALICE}` })).toThrow(
      expect.objectContaining({ code: "E_RATE_LIMITED" }),
    );
    expect((await askAndRun({ vm: "web1", action: "shutdown", by: "cli" })).state).toBe("done");
    expect(() => requestVmAction(p.db, { vm: "web1", action: "destroy", by: `wallet:${ALICE}` })).toThrow(
      /cannot destroy/,
    );
  });

  test("destroy by name: the VM is gone, and later requests for it are refused", async () => {
    await setup();
    expect((await askAndRun({ vm: "web1", action: "destroy", by: `admin:${BOB}` })).state).toBe("done");
    expect(getVm(p.db, "web1")?.status).toBe("destroyed");
    expect(() => requestVmAction(p.db, { vm: "web1", action: "start", by: "cli" })).toThrow(/no VM named web1/);
  });
});

describe("reinstall", () => {
  test("same name, VMID, addresses, NFT and expiry; the chosen OS; new cloud-init with the holder in GECOS", async () => {
    await setup("os: [debian-12, debian-13]");
    const before = requireVm(p.db, "web1");
    expect(before.extra.os).toBe("debian-12");
    const userData = join(paths.cloudInitDir, "web1", "user-data");
    const oldUserData = readFileSync(userData, "utf8");
    const job = await askAndRun({ vm: "web1", action: "reinstall", by: `wallet:${ALICE}`, os: "debian-13" });
    expect(job.state).toBe("done");
    const after = requireVm(p.db, "web1");
    for (const k of ["vm_name", "vmid", "ip_address", "ipv6_address", "nft_token_id", "expires_at", "disk_gb"] as const)
      expect(after[k]).toEqual(before[k]);
    expect(after.extra.os).toBe("debian-13");
    expect(after.extra.reinstalling).toBeUndefined();
    expect(said.join("\n")).toContain("would destroy web1");
    const fresh = readFileSync(userData, "utf8");
    expect(fresh).not.toBe(oldUserData); // a new VM secret
    expect(fresh).toContain(`gecos: wallet=${ALICE},nft=3`);
    // The gecos job follows, so the holder's wallet is written again whatever cloud-init did.
    expect(jobByKey(p.db, "gecos:web1")?.state).toBe("queued");
  });

  test("an OS the host does not offer is refused", async () => {
    await setup();
    const job = await askAndRun({ vm: "web1", action: "reinstall", by: "cli", os: "windows-11" });
    expect(job.state).toBe("dead");
    expect(job.last_error).toContain('OS "windows-11" is not offered here (choose one of debian-12)');
    expect(troubledJobs(p.db, 10).map((j) => j.key)).toContain(job.key);
  });
});

describe("the CLI's run", () => {
  test("with no engine running the CLI runs the job itself; with one, it follows the engine's run", async () => {
    await setup();
    const here = await runVmAction(p, { vm: "web1", action: "shutdown", by: "cli" });
    expect(here.here).toBe(true);
    expect(jobByKey(p.db, here.key)?.state).toBe("done");

    setMeta(p.db, ENGINE_PID_KEY, String(process.pid)); // "an engine runs": this process plays it
    const followed = runVmAction(p, { vm: "web1", action: "start", by: "cli" });
    let job: Job | null = null;
    while (!job) {
      await Bun.sleep(20);
      job = claimNextJob(p.db, Date.now(), ["power"]);
    }
    await runVmJob(ctx, job);
    ctx.queue.complete(job.id);
    expect(await followed).toEqual({ key: job.key, here: false });
  });
});
