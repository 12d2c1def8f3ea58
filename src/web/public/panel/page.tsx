/** The "My servers" page: sign-in, then one card per server the wallet holds (states kept live by the panel script). */
import { Page } from "../../layout.tsx";
import type { OsChoice } from "../../../provision/os.ts";
import { ExtendControl, expiryText, type PanelPay } from "./extend.tsx";
import type { ServerView } from "./servers.ts";
import { TrafficRow } from "./traffic.tsx";

export interface PanelData {
  csrf: string;
  pay: PanelPay;
}

const POWER = [
  ["start", "Start"],
  ["shutdown", "Shut down"],
  ["reboot", "Reboot"],
  ["off", "Power off"],
] as const;

const size = (s: ServerView) => `${s.cpu} vCPU, ${s.memory_mb / 1024} GiB memory, ${s.disk_gb} GB disk`;

function ServerCard(props: { s: ServerView; offered: OsChoice[] }) {
  const { s } = props;
  const id = (what: string) => `${what}-${s.name}`;
  return (
    <li class="card server" data-server={s.name} aria-labelledby={id("h")}>
      <h3 id={id("h")}>{s.name}</h3>
      <dl>
        <dt>State</dt>
        <dd>
          <strong class="state" data-field="state">
            {s.state}
          </strong>{" "}
          <span class="muted" data-field="problem">
            {s.problem ? `last action failed: ${s.problem}` : ""}
          </span>
        </dd>
        <dt>Plan</dt>
        <dd>{`${s.plan ? `${s.plan}: ` : ""}${size(s)}`}</dd>
        <dt>System</dt>
        <dd data-field="os">{s.os}</dd>
        <dt>Addresses</dt>
        <dd>{[s.ipv4, s.ipv6].filter(Boolean).join(", ")}</dd>
        <dt>Paid until</dt>
        <dd>
          <span data-field="expires">{expiryText(s.expires_at)}</span>{" "}
          <ExtendControl server={s.name} subscription={s.subscription_id} />
        </dd>
        <TrafficRow t={s.traffic} />
        <dt>SSH</dt>
        <dd>
          <code>{s.ssh}</code>
        </dd>
        <dt>Usage</dt>
        <dd>
          <a href={`/my/servers/${encodeURIComponent(s.name)}/usage`} data-usage>{`Usage graphs of ${s.name}`}</a>
        </dd>
      </dl>
      <fieldset class="actions">
        <legend>{`Power of ${s.name}`}</legend>
        {POWER.map(([op, label]) => (
          <button type="button" class="secondary" data-op={op} disabled={s.busy}>
            {label}
          </button>
        ))}
        <button type="button" class="secondary" data-console={s.name}>
          Console
        </button>
      </fieldset>
      <div class="reinstall">
        <label for={id("os")}>Reinstall with</label>
        <select id={id("os")} data-field="os-choice">
          {props.offered.map((o) => (
            <option value={o.id}>{o.label}</option>
          ))}
        </select>
        <button type="button" class="danger" data-reinstall disabled={s.busy}>
          Reinstall (erases the disk)
        </button>
      </div>
    </li>
  );
}

export function MyServersPage(props: {
  title: string;
  accent: string;
  nonce: string | undefined;
  signedIn: {
    wallet: string;
    csrf: string;
    pay: PanelPay;
    servers: ServerView[];
    problem: string | null;
    offered: OsChoice[];
  } | null;
}) {
  const s = props.signedIn;
  return (
    <Page
      title={props.title}
      accent={props.accent}
      nonce={props.nonce}
      scripts={s ? ["panel", "console"] : ["panel"]}
      data={s ? ({ csrf: s.csrf, pay: s.pay } satisfies PanelData) : undefined}
    >
      <section class="card" aria-labelledby="h-my">
        <h2 id="h-my">My servers</h2>
        {s ? (
          <p>
            Signed in as <code id="panel-wallet">{s.wallet}</code>{" "}
            <button id="btn-panel-logout" type="button" class="secondary">
              Sign out
            </button>
          </p>
        ) : (
          <>
            <p>Sign in with the wallet that holds your server's access NFT. Signing costs nothing.</p>
            <button id="btn-panel-signin" type="button">
              Sign in with your wallet
            </button>
          </>
        )}
        <p>
          <a href="/">Buy a server</a>
        </p>
      </section>
      {s?.problem && (
        <p class="error" role="alert">
          {`Could not read your servers: ${s.problem}`}
        </p>
      )}
      {s && s.servers.length === 0 && !s.problem && <p id="no-servers">This wallet holds no servers here.</p>}
      {s && (
        <ul id="server-cards" class="plain">
          {s.servers.map((v) => (
            <ServerCard s={v} offered={s.offered} />
          ))}
        </ul>
      )}
    </Page>
  );
}
