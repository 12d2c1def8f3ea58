/** The admin wallet page: balances per addressbook role, withdraw, send, addressbook edits, new wallets. */
import { IMMUTABLE_ROLES } from "../../../core/config/addressbook.ts";
import { type AdminFrame, AdminPage, AdminTable, PostButton } from "./layout.tsx";

export interface WalletRow {
  name: string;
  address: string;
  /** The entry has a key file the host can sign with. */
  canSign: boolean;
  native: string;
  stable: string | null;
}

type Props = AdminFrame & {
  rows: WalletRow[];
  coin: string | null;
  contractBalance: string | null;
  /** Fresh per render: a resubmitted form is recognised as the same send. */
  idempotencyKey: string;
};

function EntryRow(props: { row: WalletRow; csrf: string; coin: string | null }) {
  const r = props.row;
  const editable = !IMMUTABLE_ROLES.includes(r.name);
  // An entry with a key file has the key's address: changing it would only break the entry.
  const addressEditable = editable && !r.canSign;
  return (
    <tr data-role={r.name}>
      <td>{r.name}</td>
      <td>
        {addressEditable ? (
          <form method="post" action={`/admin/wallet/addressbook/${r.name}`} class="inline">
            <input type="hidden" name="csrf" value={props.csrf} />
            <label for={`address-${r.name}`} class="visually-hidden">
              Address of {r.name}
            </label>
            <input id={`address-${r.name}`} name="address" value={r.address} maxlength={42} required />
            <button type="submit" class="secondary">
              Save address
            </button>
          </form>
        ) : (
          <code>{r.address}</code>
        )}
      </td>
      <td>{r.native}</td>
      <td>{r.stable ?? "—"}</td>
      <td>{r.canSign ? "yes" : "no"}</td>
      <td>
        {editable && (
          <PostButton action={`/admin/wallet/addressbook/${r.name}/remove`} csrf={props.csrf} label="Remove" danger />
        )}
      </td>
    </tr>
  );
}

function SendForm(props: Props) {
  const signers = props.rows.filter((r) => r.canSign);
  if (signers.length === 0) return <p>No role has a key file: nothing can be sent from here.</p>;
  return (
    <form method="post" action="/admin/wallet/send" id="send">
      <input type="hidden" name="csrf" value={props.csrf} />
      <input type="hidden" name="idempotency_key" value={props.idempotencyKey} />
      <label for="send-from">From (a role with a key file)</label>
      <select id="send-from" name="from">
        {signers.map((r) => (
          <option value={r.name}>{r.name}</option>
        ))}
      </select>
      <label for="send-to">To (a role or a 0x address)</label>
      <input id="send-to" name="to" list="roles" maxlength={64} required autocomplete="off" />
      <datalist id="roles">
        {props.rows.map((r) => (
          <option value={r.name} />
        ))}
      </datalist>
      <label for="send-token">Token</label>
      <select id="send-token" name="token">
        <option value="eth">ETH</option>
        {props.coin && <option value="stable">{props.coin}</option>}
      </select>
      <label for="send-amount">Amount</label>
      <input id="send-amount" name="amount" inputmode="decimal" placeholder="1.5" maxlength={50} required />
      <button type="submit">Send</button>
    </form>
  );
}

export function WalletPage(props: Props) {
  return (
    <AdminPage {...props} heading="Wallet">
      {props.contractBalance !== null && (
        <p>
          Subscription contract holds <strong id="contract-balance">{props.contractBalance}</strong> {props.coin}.
        </p>
      )}
      {props.contractBalance !== null && props.rows.length > 0 && (
        <form method="post" action="/admin/wallet/withdraw" id="withdraw">
          <input type="hidden" name="csrf" value={props.csrf} />
          <label for="withdraw-to">Withdraw it all to</label>
          <select id="withdraw-to" name="to">
            {props.rows.map((r) => (
              <option value={r.name}>{`${r.name} (${r.address})`}</option>
            ))}
          </select>
          <button type="submit">Withdraw</button>
        </form>
      )}
      <h3>Addressbook</h3>
      {props.rows.length === 0 ? (
        <p>The addressbook is empty.</p>
      ) : (
        <AdminTable id="wallet-table" heads={["Role", "Address", "ETH", props.coin ?? "Stablecoin", "Key file", ""]}>
          {props.rows.map((r) => (
            <EntryRow row={r} csrf={props.csrf} coin={props.coin} />
          ))}
        </AdminTable>
      )}
      <p class="muted">The system roles ({IMMUTABLE_ROLES.join(", ")}) are changed only on the host.</p>
      <h3>Send</h3>
      <SendForm {...props} />
      <h3>Add an entry</h3>
      <form method="post" action="/admin/wallet/addressbook" id="add-entry">
        <input type="hidden" name="csrf" value={props.csrf} />
        <label for="add-name">Name (lowercase letters, digits, -)</label>
        <input id="add-name" name="name" maxlength={64} pattern="[a-z0-9][a-z0-9\-]{0,63}" required />
        <label for="add-address">Address</label>
        <input id="add-address" name="address" maxlength={42} placeholder="0x…" required />
        <button type="submit">Add</button>
      </form>
      <h3>New wallet</h3>
      <form method="post" action="/admin/wallet/generate" id="generate">
        <input type="hidden" name="csrf" value={props.csrf} />
        <label for="generate-name">Name (its key stays on the host, readable by root and blockhost only)</label>
        <input id="generate-name" name="name" maxlength={32} pattern="[a-z0-9][a-z0-9\-]{0,31}" required />
        <button type="submit">Generate wallet</button>
      </form>
    </AdminPage>
  );
}
