/** The admin panel's frame: navigation, a one-line notice, a POST button with the CSRF token, a list table. */
import type { Child } from "hono/jsx";
import { Page } from "../../layout.tsx";

export interface AdminFrame {
  title: string;
  accent: string;
  nonce: string | undefined;
  csrf: string;
  wallet: string;
  notice?: string | undefined;
}

const NAV = [
  ["/admin", "VMs"],
  ["/admin/nodes", "Nodes"],
  ["/admin/usage", "Usage"],
  ["/admin/jobs", "Jobs"],
  ["/admin/plans", "Plans"],
  ["/admin/wallet", "Wallet"],
  ["/admin/commands", "Admin commands"],
] as const;

export function AdminPage(
  props: AdminFrame & { heading: string; children?: Child; scripts?: string[]; data?: unknown },
) {
  return (
    <Page
      title={`${props.title} — admin`}
      accent={props.accent}
      nonce={props.nonce}
      scripts={props.scripts}
      data={props.data}
    >
      <nav aria-label="Admin sections">
        {NAV.map(([href, label]) => (
          <a class="button secondary" href={href} aria-current={label === props.heading ? "page" : undefined}>
            {label}
          </a>
        ))}
        <PostButton action="/admin/logout" csrf={props.csrf} label="Log out" />
      </nav>
      <p class="muted">
        Signed in as <code>{props.wallet}</code>
      </p>
      {props.notice && (
        <p class="ok" role="status">
          {props.notice}
        </p>
      )}
      <h2>{props.heading}</h2>
      {props.children}
    </Page>
  );
}

/** A one-button form that POSTs to `action` with the CSRF token (works without JavaScript). */
export function PostButton(props: {
  action: string;
  csrf: string;
  label: string;
  fields?: Record<string, string>;
  danger?: boolean;
}) {
  return (
    <form method="post" action={props.action} class="inline">
      <input type="hidden" name="csrf" value={props.csrf} />
      {Object.entries(props.fields ?? {}).map(([k, v]) => (
        <input type="hidden" name={k} value={v} />
      ))}
      <button type="submit" class={props.danger ? "danger" : "secondary"}>
        {props.label}
      </button>
    </form>
  );
}

/** A list table that scrolls sideways on a narrow screen: one header row of `heads`, the rows as children. */
export function AdminTable(props: { id: string; heads: Child[]; children?: Child }) {
  return (
    <div class="table-wrap">
      <table id={props.id}>
        <thead>
          <tr>
            {props.heads.map((h) => (
              <th>{h}</th>
            ))}
          </tr>
        </thead>
        <tbody>{props.children}</tbody>
      </table>
    </div>
  );
}
