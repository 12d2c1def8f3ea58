/** The admin panel (`/admin`): EIP-4361 sign-in of the admin NFT holder, then VMs, jobs, plans, wallet and admin commands. */
import { VM_NAME_RE } from "../../../core/validators.ts";
import { Hono } from "hono";
import { parseUnits } from "viem";
import { BlockhostError, hasCode } from "../../../core/errors.ts";
import { literal, object, optional, str } from "../../../core/schema.ts";
import { jobByKey, troubledJobs } from "../../../core/state/jobs.ts";
import { requestVmAction } from "../../../engine/vm-requests.ts";
import { JOB_KEY, jobEvents, jobView } from "../job-events.ts";
import { listVms } from "../../../core/state/vms.ts";
import { clusterStatusOf } from "../../../engine/status-nodes.ts";
import type { ServeDeps } from "../deps.ts";
import { formBody } from "../form-body.ts";
import type { WalletLogin } from "../../session/index.ts";
import { adminLogin } from "./auth.ts";
import { commandRoutes } from "./commands.tsx";
import { signInRoutes } from "./sign-in.tsx";
import { type AdminContext, type AdminEnv, adminKit } from "./kit.tsx";
import { NodesPage } from "./nodes-page.tsx";
import { ConfirmDestroyPage, JobFollowPage, JobsPage, PlansPage, VmsPage } from "./pages.tsx";
import { walletRoutes } from "./wallet.tsx";
import { adminUsageRoutes } from "./usage.tsx";

const destroyForm = object({ confirm: optional(literal("yes")) });
const retryForm = object({ key: str(/^[a-z]+:[0-9a-zA-Z:._-]{1,120}$/, "a job key", 130) });
const planFields = object({
  name: str(/^\P{Cc}{1,64}$/u, "1 to 64 characters, no control characters", 64 * 4),
  price: str(/^\d{1,6}(\.\d{1,2})?$/, "a positive USD amount like 1.50", 9),
  active: optional(literal("1")),
});

/** The admin panel's words for the lifecycle actions (the CLI's: start, stop, reboot, kill, destroy). */
const ADMIN_OPS = { start: "start", stop: "shutdown", reboot: "reboot", kill: "off", destroy: "destroy" } as const;

export function adminApp(deps: ServeDeps, login: WalletLogin = adminLogin(deps)): Hono<AdminEnv> {
  const app = new Hono<AdminEnv>();
  const kit = adminKit(deps);
  const { frame, notice, done, action } = kit;

  signInRoutes(app, deps, login);

  app.get("/", (c) => c.html(<VmsPage {...frame(c, notice(c))} vms={listVms(deps.db)} />));

  // The engine runs the action (one writer of VM lifecycle); the page follows its job.
  app.post("/vms/:name/:op{start|stop|reboot|kill|destroy}", async (c) => {
    const name = c.req.param("name");
    const op = c.req.param("op") as keyof typeof ADMIN_OPS;
    let key: string;
    try {
      if (!VM_NAME_RE.test(name)) throw new BlockhostError("E_INVALID_INPUT", "bad VM name");
      // Destroying cannot be undone: the first POST asks, the confirmation page's POST does it.
      if (op === "destroy" && !(await formBody(c, destroyForm)).confirm)
        return c.html(<ConfirmDestroyPage {...frame(c)} vm={name} />);
      action(c, `vm.${op}`, { vm: name });
      key = requestVmAction(deps.db, {
        vm: name,
        action: ADMIN_OPS[op],
        by: `admin:${c.get("walletSession").wallet}`,
      });
    } catch (e) {
      return kit.failed(c, `${op} ${name}`, e, hasCode(e, "E_INVALID_INPUT") ? 400 : 409);
    }
    return c.redirect(`/admin/jobs/${key}`, 303);
  });

  const followed = (c: AdminContext) => {
    const key = c.req.param("key") ?? "";
    return JOB_KEY.test(key) ? jobByKey(deps.db, key) : null;
  };
  app.get("/jobs/:key/events", (c) => {
    const job = followed(c);
    return job ? jobEvents(c, deps.db, job) : c.text("no such VM job", 404);
  });
  app.get("/jobs/:key", (c) => {
    const job = followed(c);
    if (!job) return c.text("no such VM job", 404);
    const view = jobView(job);
    const op = Object.entries(ADMIN_OPS).find(([, a]) => a === view.action)?.[0] ?? view.action;
    return c.html(<JobFollowPage {...frame(c)} job={view} label={`${op} ${view.vm}`} />);
  });

  app.get("/nodes", async (c) =>
    c.html(<NodesPage {...frame(c, notice(c))} cluster={await clusterStatusOf(deps.db, deps.provisioner().backend)} />),
  );

  app.get("/jobs", (c) => c.html(<JobsPage {...frame(c, notice(c))} jobs={troubledJobs(deps.db, 100)} />));

  app.post("/jobs/retry", async (c) => {
    try {
      const { key } = await formBody(c, retryForm);
      action(c, "job.retry", { job: key });
      if (!deps.queue.retry(key)) throw new BlockhostError("E_NOT_FOUND", `no failed or dead job ${key}`);
      return done(c, "/admin/jobs", `${key} queued again`);
    } catch (e) {
      return kit.failed(c, "retry the job", e);
    }
  });

  app.get("/plans", async (c) =>
    c.html(
      <PlansPage {...frame(c, notice(c))} plans={await deps.chain.plans(true)} canWrite={deps.chain.signer !== null} />,
    ),
  );

  const planForm = async (c: AdminContext) => {
    const f = await formBody(c, planFields);
    if (Number(f.price) <= 0) throw new BlockhostError("E_INVALID_INPUT", "price: a positive USD amount like 1.50");
    return { name: f.name, cents: parseUnits(f.price, 2), active: f.active === "1" };
  };

  app.post("/plans", async (c) => {
    try {
      const f = await planForm(c);
      action(c, "plan.create", { name: f.name, cents_per_day: String(f.cents) });
      await deps.chain.createPlan(f.name, f.cents);
      return done(c, "/admin/plans", `plan ${f.name} created`);
    } catch (e) {
      return kit.failed(c, "create the plan", e);
    }
  });

  app.post("/plans/:id{[0-9]{1,6}}", async (c) => {
    const id = Number(c.req.param("id"));
    try {
      const f = await planForm(c);
      action(c, "plan.update", { plan: id, name: f.name, cents_per_day: String(f.cents), active: f.active });
      await deps.chain.updatePlan(id, f.name, f.cents, f.active);
      return done(c, "/admin/plans", `plan ${id} saved`);
    } catch (e) {
      return kit.failed(c, `save plan ${id}`, e);
    }
  });

  adminUsageRoutes(app, deps, kit);
  walletRoutes(app, kit);
  commandRoutes(app, kit);

  return app;
}
