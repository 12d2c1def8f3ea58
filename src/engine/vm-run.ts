/** `blockhost vm start|stop|kill|reboot|reinstall|destroy`: ask for the job, then follow the engine or run it here. */
import { BlockhostError, oneLine } from "../core/errors.ts";
import { claimJobByKey } from "../core/state/jobs.ts";
import type { Provisioner } from "../provision/context.ts";
import { engineRunning, followJob } from "./vm-follow.ts";
import { runVmJob } from "./vm-jobs.ts";
import { JobQueue } from "./queue.ts";
import { requestVmAction, type VmActionRequest } from "./vm-requests.ts";

/** How long the CLI follows a job the engine runs (a reinstall under TCG takes minutes). */
const FOLLOW_MS = 30 * 60_000;

/**
 * Queue the request; when an engine runs, follow its job; when none does (a host being set up,
 * tests), take the job from the table and run it in this process: either way the job row is
 * the one record, and two writers never act on one VM at once.
 */
export async function runVmAction(p: Provisioner, req: VmActionRequest): Promise<{ key: string; here: boolean }> {
  const key = requestVmAction(p.db, req);
  if (!engineRunning(p.db)) {
    const job = claimJobByKey(p.db, key);
    if (job) {
      const queue = new JobQueue(p.db, { baseMs: 5_000, maxMs: 600_000 });
      try {
        await runVmJob({ db: p.db, provisioner: p, queue }, job);
        queue.complete(job.id);
      } catch (e) {
        queue.fail(job, oneLine(e), true);
        throw e;
      }
      return { key, here: true };
    }
  }
  p.say(`job ${key} queued; following the engine`);
  const end = await followJob(p.db, key, { timeoutMs: FOLLOW_MS });
  if (end.state === "dead") throw new BlockhostError("E_STATE", `${req.action} ${req.vm} failed: ${end.error}`);
  return { key, here: false };
}
