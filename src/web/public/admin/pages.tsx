/** The admin panel's pages for VMs, jobs and plans (server-rendered; actions are CSRF-checked forms). */
import type { Job } from "../../../core/state/jobs.ts";
import type { VmRecord } from "../../../core/state/vms.ts";
import type { Plan } from "../chain.ts";
import type { JobView } from "../job-events.ts";
import { usd } from "../signup-data.ts";
import { type AdminFrame, AdminPage, AdminTable, PostButton } from "./layout.tsx";

/** The lifecycle state, and the power state the last power job recorded (`active` alone when none did). */
const powerLabel = (v: VmRecord) =>
  v.status === "active" && typeof v.extra.power === "string" ? `active, ${v.extra.power}` : v.status;

/** A lifecycle job followed live (admin client: job-follow); without JavaScript, reload shows the state. */
export function JobFollowPage(props: AdminFrame & { job: JobView; label: string }) {
  const { job } = props;
  const text =
    job.state === "done"
      ? `${props.label}: done`
      : job.state === "failed"
        ? `${props.label} failed: ${job.error}`
        : `${props.label}: ${job.state}…`;
  const cls = job.state === "done" ? "ok" : job.state === "failed" ? "error" : "muted";
  return (
    <AdminPage {...props} heading="VMs" scripts={["job-follow"]}>
      <p
        id="job-status"
        class={cls}
        role="status"
        data-events={`/admin/jobs/${job.key}/events`}
        data-label={props.label}
      >
        {text}
      </p>
      <p>
        <a href="/admin">Back to the VMs</a>
      </p>
    </AdminPage>
  );
}

export function VmsPage(props: AdminFrame & { vms: VmRecord[]; traffic?: (vm: VmRecord) => string }) {
  const live = props.vms.filter((v) => v.status !== "destroyed");
  return (
    <AdminPage {...props} heading="VMs">
      {live.length === 0 ? (
        <p>No VMs yet.</p>
      ) : (
        <AdminTable id="vm-table" heads={["Name", "State", "Owner", "Expires", "IPs", "NFT", "Traffic", "Actions"]}>
          {live.map((v) => (
            <tr data-vm={v.vm_name}>
              <td>{v.vm_name}</td>
              <td>{powerLabel(v)}</td>
              <td>
                <code>{v.owner_wallet ?? v.wallet_address ?? v.owner}</code>
              </td>
              <td>{v.expires_at.slice(0, 16).replace("T", " ")}</td>
              <td>{[v.ip_address, v.ipv6_address].filter(Boolean).join(", ")}</td>
              <td>{v.nft_minted ? `#${v.nft_token_id}` : "—"}</td>
              <td data-field="traffic">{props.traffic?.(v) ?? ""}</td>
              <td>
                <PostButton action={`/admin/vms/${v.vm_name}/start`} csrf={props.csrf} label="Start" />
                <PostButton action={`/admin/vms/${v.vm_name}/stop`} csrf={props.csrf} label="Stop" />
                <PostButton action={`/admin/vms/${v.vm_name}/reboot`} csrf={props.csrf} label="Reboot" />
                <PostButton action={`/admin/vms/${v.vm_name}/kill`} csrf={props.csrf} label="Power off" />
                <PostButton action={`/admin/vms/${v.vm_name}/destroy`} csrf={props.csrf} label="Destroy" danger />
              </td>
            </tr>
          ))}
        </AdminTable>
      )}
    </AdminPage>
  );
}

export function ConfirmDestroyPage(props: AdminFrame & { vm: string }) {
  return (
    <AdminPage {...props} heading="VMs">
      <section class="card" aria-labelledby="h-confirm">
        <h3 id="h-confirm">Destroy {props.vm}?</h3>
        <p>Its disk is deleted and its addresses are released; the customer loses the server. This cannot be undone.</p>
        <PostButton
          action={`/admin/vms/${props.vm}/destroy`}
          csrf={props.csrf}
          label={`Destroy ${props.vm}`}
          fields={{ confirm: "yes" }}
          danger
        />
        <a class="button secondary" href="/admin">
          Cancel
        </a>
      </section>
    </AdminPage>
  );
}

export function JobsPage(props: AdminFrame & { jobs: Job[] }) {
  return (
    <AdminPage {...props} heading="Jobs">
      {props.jobs.length === 0 ? (
        <p>No failed or dead jobs.</p>
      ) : (
        <AdminTable id="job-table" heads={["Job", "State", "Attempts", "Last error", ""]}>
          {props.jobs.map((j) => (
            <tr data-job={j.key}>
              <td>
                <code>{j.key}</code>
              </td>
              <td>{j.state}</td>
              <td>{j.attempts}</td>
              <td>{j.last_error ?? ""}</td>
              <td>
                {j.state !== "running" && (
                  <PostButton action="/admin/jobs/retry" csrf={props.csrf} label="Retry now" fields={{ key: j.key }} />
                )}
              </td>
            </tr>
          ))}
        </AdminTable>
      )}
    </AdminPage>
  );
}

export function PlansPage(props: AdminFrame & { plans: Plan[]; canWrite: boolean }) {
  return (
    <AdminPage {...props} heading="Plans">
      {!props.canWrite && (
        <p class="error">The host wallet key is not readable by this process: plans are read-only here.</p>
      )}
      <AdminTable id="plan-table" heads={["#", "Name", "Price per day (USD)", "On sale", ""]}>
        {props.plans.map((p) => (
          <tr data-plan={String(p.id)}>
            <td>{p.id}</td>
            <td colspan={4}>
              <form method="post" action={`/admin/plans/${p.id}`} class="plan-row">
                <input type="hidden" name="csrf" value={props.csrf} />
                <label for={`plan-name-${p.id}`} class="visually-hidden">
                  Name of plan {p.id}
                </label>
                <input id={`plan-name-${p.id}`} name="name" value={p.name} maxlength={64} required />
                <label for={`plan-price-${p.id}`} class="visually-hidden">
                  Price per day of plan {p.id}
                </label>
                <input
                  id={`plan-price-${p.id}`}
                  name="price"
                  value={usd(p.price_cents_per_day)}
                  inputmode="decimal"
                  required
                />
                <label>
                  <input type="checkbox" name="active" value="1" checked={p.active} /> on sale
                </label>
                <button type="submit" disabled={!props.canWrite}>
                  Save
                </button>
              </form>
            </td>
          </tr>
        ))}
      </AdminTable>
      <h3>New plan</h3>
      <form method="post" action="/admin/plans" id="new-plan">
        <input type="hidden" name="csrf" value={props.csrf} />
        <label for="new-plan-name">Name</label>
        <input id="new-plan-name" name="name" maxlength={64} required />
        <label for="new-plan-price">Price per day (USD)</label>
        <input id="new-plan-price" name="price" inputmode="decimal" placeholder="1.00" required />
        <button type="submit" disabled={!props.canWrite}>
          Create plan
        </button>
      </form>
    </AdminPage>
  );
}
