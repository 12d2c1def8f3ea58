/** The admin-commands page: the knock command table (edit, add, remove) and a sender that signs with the admin's wallet. */
import type { AdminCommand } from "../../../core/config/admin-commands.ts";
import { type AdminFrame, AdminPage, PostButton } from "./layout.tsx";

/** What the sender script needs (rendered into #page-data). */
export interface CommandSenderData {
  chainId: number;
  rpcUrl: string | null;
  serverPublicKey: string;
  /** blockhost.yaml admin.wallet_address: the engine only acts on commands sent from it. */
  adminWallet: string;
  /** Where the transaction goes (null: to the admin wallet itself). */
  destination: string | null;
}

export interface CommandsView {
  settings: Record<string, string>;
  commands: Record<string, AdminCommand>;
  sender: CommandSenderData | null;
  /** A fresh random name offered for a new command (names are the operator's secret). */
  suggestedName: string;
}

function KnockFields(props: { id: string; def?: AdminCommand }) {
  const p = props.def?.params;
  return (
    <>
      <label for={`${props.id}-description`}>Description</label>
      <input id={`${props.id}-description`} name="description" value={props.def?.description ?? ""} maxlength={256} />
      <label for={`${props.id}-ports`}>Ports it may open (comma-separated)</label>
      <input
        id={`${props.id}-ports`}
        name="ports"
        value={(p?.allowed_ports ?? [22]).join(", ")}
        inputmode="numeric"
        maxlength={200}
        required
      />
      <label for={`${props.id}-duration`}>Default open time (seconds, 1–3600)</label>
      <input
        id={`${props.id}-duration`}
        name="duration"
        value={String(p?.default_duration ?? 300)}
        inputmode="numeric"
        maxlength={4}
        required
      />
      <label for={`${props.id}-proto`}>Protocol</label>
      <select id={`${props.id}-proto`} name="proto">
        {(["tcp", "udp"] as const).map((proto) => (
          <option value={proto} selected={(p?.proto ?? "tcp") === proto}>
            {proto}
          </option>
        ))}
      </select>
    </>
  );
}

function Sender(props: { view: CommandsView }) {
  const names = Object.keys(props.view.commands);
  if (!props.view.sender)
    return (
      <p>
        Admin commands are off: blockhost.yaml has no <code>admin:</code> section.
      </p>
    );
  if (names.length === 0) return <p>Define a command first.</p>;
  return (
    <form id="send-command">
      <p>
        Sent as a 0-value transaction from <code>{props.view.sender.adminWallet}</code> (connect that wallet) to{" "}
        <code>{props.view.sender.destination ?? "the same wallet"}</code>, encrypted to the host's key.
      </p>
      <label for="send-command-name">Command</label>
      <select id="send-command-name" name="command">
        {names.map((n) => (
          <option value={n}>{n}</option>
        ))}
      </select>
      <label for="send-command-ports">Ports (empty: all the command allows)</label>
      <input id="send-command-ports" name="ports" inputmode="numeric" maxlength={200} />
      <label for="send-command-duration">Open for (seconds; empty: the command's default)</label>
      <input id="send-command-duration" name="duration" inputmode="numeric" maxlength={4} />
      <label for="send-command-source">Only from this IP address (empty: the address that logs in first)</label>
      <input id="send-command-source" name="source" maxlength={45} autocomplete="off" />
      <button type="submit" id="btn-send-command">
        Send from my wallet
      </button>
      <p class="muted">
        Transaction: <code id="command-tx"></code>
      </p>
    </form>
  );
}

export function CommandsPage(props: AdminFrame & { view: CommandsView }) {
  const v = props.view;
  const settings = Object.entries(v.settings);
  return (
    <AdminPage
      {...props}
      heading="Admin commands"
      scripts={v.sender ? ["admin-commands"] : undefined}
      data={v.sender ?? undefined}
    >
      <p>
        Port knocking: the admin wallet sends an encrypted command on chain and the engine opens the ports for a while.
        Settings from <code>blockhost.yaml</code> <code>admin:</code> (changed on the host):
      </p>
      {settings.length > 0 && (
        <div class="table-wrap">
          <table id="knock-table">
            <tbody>
              {settings.map(([k, val]) => (
                <tr>
                  <th scope="row">{k}</th>
                  <td>
                    <code>{val}</code>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <h3>Commands</h3>
      {Object.keys(v.commands).length === 0 && <p>No command is defined.</p>}
      {Object.entries(v.commands).map(([name, def], i) => (
        <section class="card" data-command={name} aria-labelledby={`command-${i}`}>
          <h4 id={`command-${i}`}>
            <code>{name}</code> ({def.action})
          </h4>
          <form method="post" action={`/admin/commands/${name}`}>
            <input type="hidden" name="csrf" value={props.csrf} />
            <KnockFields id={`command-${i}`} def={def} />
            <button type="submit">Save</button>
          </form>
          <PostButton action={`/admin/commands/${name}/remove`} csrf={props.csrf} label="Remove" danger />
        </section>
      ))}
      <h3>New knock command</h3>
      <form method="post" action="/admin/commands" id="new-command">
        <input type="hidden" name="csrf" value={props.csrf} />
        <label for="new-command-name">Name (a secret: whoever knows it and holds the admin wallet can knock)</label>
        <input id="new-command-name" name="name" value={v.suggestedName} maxlength={64} required />
        <KnockFields id="new-command" />
        <button type="submit">Add command</button>
      </form>
      <h3>Send a command</h3>
      <Sender view={v} />
    </AdminPage>
  );
}
