/** The admin login page: a one-time code the NFT holder's wallet signs (the script posts it to /admin/login). */
import { Page } from "../../layout.tsx";

export interface AdminLoginData {
  code: string;
  message: string;
  chainId: number;
  rpcUrl: string;
}

export function LoginPage(props: { title: string; accent: string; nonce: string | undefined; data: AdminLoginData }) {
  return (
    <Page
      title={`${props.title} — admin`}
      accent={props.accent}
      nonce={props.nonce}
      scripts={["admin"]}
      data={props.data}
    >
      <section class="card" aria-labelledby="h-login">
        <h2 id="h-login">Admin login</h2>
        <p>Sign this message with the wallet that holds the admin NFT:</p>
        <pre id="login-message">{props.data.message}</pre>
        <button id="btn-login" type="button">
          Sign in with wallet
        </button>
        <p class="muted">The code is valid for 5 minutes and once only; reload the page for a new one.</p>
      </section>
    </Page>
  );
}
