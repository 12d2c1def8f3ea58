/**
 * Admin wallet sends as engine jobs: the form's idempotency key names the job, so a retried POST
 * (a 503, a double click, a reload) finds the same job instead of paying again; the page then
 * follows the job by server-sent events until the transaction is mined or the job gives up.
 */
import type { Hono } from "hono";
import { streamSSE } from "hono/streaming";
import { jobByKey, type Job } from "../../../core/state/jobs.ts";
import { liveTxFor } from "../../../core/state/nonces.ts";
import { BlockhostError } from "../../../core/errors.ts";
import { type SendPayload, sendJobKey, sendPurpose } from "../../../engine/send.ts";
import type { ServeDeps } from "../deps.ts";
import type { AdminContext, AdminEnv, AdminKit } from "./kit.tsx";
import { AdminPage } from "./layout.tsx";

/** The form field that carries the key; the page makes a fresh one each time it renders the form. */
export const IDEMPOTENCY_RE = /^[A-Za-z0-9_-]{16,64}$/;
export const newIdempotencyKey = () => Buffer.from(crypto.getRandomValues(new Uint8Array(16))).toString("base64url");

/** What the follow page and its event stream show. */
export interface SendView {
  state: Job["state"];
  tx: string | null;
  error: string | null;
  done: boolean;
}

export function sendView(deps: ServeDeps, key: string): SendView | null {
  const job = jobByKey(deps.db, key);
  if (job?.kind !== "send") return null;
  const tx = liveTxFor(deps.db, sendPurpose(key))?.tx_hash ?? null;
  return { state: job.state, tx, error: job.last_error, done: job.state === "done" || job.state === "dead" };
}

/**
 * Queue the send for `idempotencyKey` (nothing happens when that key already has a job with the
 * same payload); a key reused for a different send is a conflict.
 */
export function queueSend(deps: ServeDeps, idempotencyKey: string, payload: SendPayload): string {
  const key = sendJobKey(idempotencyKey);
  deps.queue.enqueue("send", key, payload as unknown as Record<string, unknown>);
  const job = jobByKey(deps.db, key);
  const same = job?.kind === "send" && JSON.stringify(job.payload) === JSON.stringify(payload);
  if (!same) throw new BlockhostError("E_CONFLICT", "this form was already used for another send; reload the page");
  return key;
}

function SendPage(props: Parameters<typeof AdminPage>[0] & { view: SendView; jobKey: string }) {
  const v = props.view;
  return (
    <AdminPage {...props} scripts={["admin-send"]} data={{ events: `/admin/wallet/sends/${props.jobKey}/events` }}>
      <p>
        Job <code>{props.jobKey}</code>: <strong id="send-state">{v.state}</strong>
      </p>
      <p>
        Transaction: <code id="send-tx">{v.tx ?? "not signed yet"}</code>
      </p>
      <p id="send-error" class="error" hidden={!v.error}>
        {v.error ?? ""}
      </p>
      <p class="muted">
        The engine sends it once, whatever happens to this page; reload to check again, or see{" "}
        <a href="/admin/jobs">Jobs</a>.
      </p>
      <p>
        <a href="/admin/wallet">Back to the wallet</a>
      </p>
    </AdminPage>
  );
}

export function sendRoutes(app: Hono<AdminEnv>, kit: AdminKit): void {
  const { deps } = kit;
  const param = (c: AdminContext) => {
    const key = c.req.param("key") ?? "";
    return /^send:[A-Za-z0-9_-]{16,64}$/.test(key) ? key : null;
  };

  app.get("/wallet/sends/:key", (c) => {
    const key = param(c);
    const view = key ? sendView(deps, key) : null;
    if (!key || !view) return c.text("no such send", 404);
    return c.html(<SendPage {...kit.frame(c, kit.notice(c))} heading="Send" view={view} jobKey={key} />);
  });

  // Every change of the job as a `send` event; the stream ends once the job is done or dead.
  app.get("/wallet/sends/:key/events", (c) => {
    const key = param(c);
    if (!key || !sendView(deps, key)) return c.text("no such send", 404);
    return streamSSE(c, async (stream) => {
      let last = "";
      for (let quiet = 0; !stream.aborted; ) {
        const view = sendView(deps, key);
        const json = JSON.stringify(view);
        if (json !== last) {
          await stream.writeSSE({ event: "send", data: json });
          last = json;
          quiet = 0;
        } else if (++quiet >= 20) {
          await stream.writeSSE({ event: "ping", data: "" });
          quiet = 0;
        }
        if (!view || view.done) return;
        await stream.sleep(500);
      }
    });
  });
}
