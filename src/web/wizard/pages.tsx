/** The wizard's login, wallet gate and summary pages (hono/jsx, server-rendered). */
import type { Child } from "hono/jsx";
import { Field, Submitted } from "../form.tsx";
import { Page } from "../layout.tsx";
import { WIZARD_STEPS, type Draft, type StepId } from "./draft.ts";

export const TITLE = "BlockHost setup";

export interface PageContext {
  nonce?: string | undefined;
  csrf?: string | undefined;
}

export function StepBar(props: { current: StepId }) {
  return (
    <nav aria-label="Setup steps">
      <ol class="steps">
        {WIZARD_STEPS.map((s) => (
          <li data-state={s.id === props.current ? "current" : ""}>
            {s.id === props.current ? (
              <strong aria-current="step">{s.title}</strong>
            ) : (
              <a href={`/wizard/${s.id}`}>{s.title}</a>
            )}
          </li>
        ))}
      </ol>
    </nav>
  );
}

/** A step's page: the step bar, an error line, and a form posting back to the same URL with the CSRF token. */
export function StepForm(
  props: PageContext & {
    step: StepId;
    heading: string;
    error?: string | undefined;
    children?: Child;
    data?: unknown;
    /** The refused form's values, shown instead of the stored ones. */
    submitted?: Record<string, string> | undefined;
  },
) {
  return (
    <Page title={TITLE} nonce={props.nonce} scripts={["wizard"]} data={props.data ?? { page: props.step }}>
      <StepBar current={props.step} />
      <section class="card">
        <h2>{props.heading}</h2>
        {props.error && (
          <p class="error" role="alert">
            {props.error}
          </p>
        )}
        <form method="post" action={`/wizard/${props.step}`}>
          <input type="hidden" name="csrf" value={props.csrf} />
          <Submitted.Provider value={props.submitted}>{props.children}</Submitted.Provider>
          <button type="submit">Save and continue</button>
        </form>
      </section>
    </Page>
  );
}

export function LoginPage(props: PageContext & { error?: string | undefined }) {
  return (
    <Page title={TITLE} nonce={props.nonce}>
      <section class="card">
        <h2>Log in</h2>
        <p>Enter the one-time code shown on the server's console (and in its journal).</p>
        {props.error && (
          <p class="error" role="alert">
            {props.error}
          </p>
        )}
        <form method="post" action="/login">
          <Field name="otp" label="One-time code" required />
          <button type="submit">Log in</button>
        </form>
      </section>
    </Page>
  );
}

export function WalletPage(props: PageContext & { publicSecret: string; wallet?: string | undefined }) {
  return (
    <Page title={TITLE} nonce={props.nonce} scripts={["wizard"]} data={{ page: "wallet", csrf: props.csrf }}>
      <section class="card">
        <h2>Admin wallet</h2>
        <p>
          Connect the wallet that will administer this host and sign the public secret. Its signature encrypts the
          admin's access NFT and the configuration backup, so keep the same text to restore a backup later.
        </p>
        <Field
          name="public_secret"
          label="Public secret (the text your wallet signs)"
          value={props.publicSecret}
          required
        />
        <p id="wallet-address">{props.wallet ? `Verified: ${props.wallet}` : "Not connected."}</p>
        <button type="button" id="connect-sign">
          Connect wallet and sign
        </button>
        {props.wallet && (
          <a class="button" href="/wizard/network">
            Continue
          </a>
        )}
      </section>
      <section class="card">
        <h2>Restore a backup</h2>
        <p>
          After signing, load a <code>blockhost-config.enc</code> downloaded from an earlier setup.
        </p>
        <label for="backup">Backup file</label>
        <input id="backup" type="file" accept=".enc,text/plain" />
        <button type="button" id="restore" class="secondary">
          Restore
        </button>
      </section>
    </Page>
  );
}

/** `key: value, …` for a section, so the review reads as text rather than JSON. */
const show = (v: unknown): string =>
  typeof v === "object" && v !== null && !Array.isArray(v)
    ? Object.entries(v)
        .map(([k, x]) => `${k}: ${typeof x === "object" ? JSON.stringify(x) : String(x)}`)
        .join(", ")
    : String(v);

const row = (k: string, v: unknown) => (
  <tr>
    <th scope="row">{k}</th>
    <td>
      <code>{show(v)}</code>
    </td>
  </tr>
);

/** The review: every value the setup file will carry (never the deployer key), then confirm and progress. */
export function SummaryPage(props: PageContext & { draft: Draft; deployer?: string | undefined; missing: string[] }) {
  const d = props.draft;
  const rows: Array<[string, unknown]> = [
    ["admin wallet", d.admin?.wallet],
    ["public secret", d.admin?.public_secret],
    ["IPv4 pool", d.network?.ipv4],
    ["IPv6", d.network?.ipv6],
    ["VM IDs", d.network?.vmid_range ?? "100-999 (default)"],
    ["HTTPS host name", d.https?.hostname ?? "(first IPv4 address)"],
    ["disk", d.storage?.disk || "(not chosen)"],
    ["chain", d.chain && { chain_id: d.chain.chain_id, rpc_url: d.chain.rpc_url }],
    ["contracts", d.chain?.contracts],
    ["stablecoin", d.chain?.stablecoin ?? "(the chain's USDC)"],
    ["deployer", props.deployer],
    ["plan", d.plan],
    ["revenue share", d.revenue_share],
    ["hypervisor", d.backend],
    ["admin commands", d.admin_commands ?? "none"],
  ];
  return (
    <Page title={TITLE} nonce={props.nonce} scripts={["wizard"]} data={{ page: "summary", csrf: props.csrf }}>
      <StepBar current="summary" />
      <section class="card">
        <h2>Summary</h2>
        <div class="table-wrap">
          <table id="summary">{rows.map(([k, v]) => row(k, v ?? "(not set)"))}</table>
        </div>
        {props.missing.length > 0 ? (
          <p class="error" role="alert">
            Still to do: {props.missing.join(", ")}
          </p>
        ) : (
          <button type="button" id="confirm">
            Confirm and set up this host
          </button>
        )}
      </section>
      <section class="card">
        <h2>Progress</h2>
        <ol class="steps" id="progress"></ol>
        <p id="finalize-done" hidden>
          Setup complete.{" "}
          <a class="button" id="download" href="/api/finalize/config" download="blockhost-config.enc">
            Download the configuration backup
          </a>
        </p>
      </section>
    </Page>
  );
}
