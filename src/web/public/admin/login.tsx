/** The admin login page: the NFT holder's wallet signs an EIP-4361 message the script builds from the server's fields. */
import { Page } from "../../layout.tsx";

export function LoginPage(props: { title: string; accent: string; nonce: string | undefined }) {
  return (
    <Page title={`${props.title} — admin`} accent={props.accent} nonce={props.nonce} scripts={["admin"]}>
      <section class="card" aria-labelledby="h-login">
        <h2 id="h-login">Admin login</h2>
        <p>
          Sign in with the wallet that holds the admin NFT. Your wallet shows the message: check it names this site.
        </p>
        <pre id="login-message"></pre>
        <button id="btn-login" type="button">
          Sign in with wallet
        </button>
        <p class="muted">Each sign-in message is valid for 5 minutes and once only.</p>
      </section>
    </Page>
  );
}
