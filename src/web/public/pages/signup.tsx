/** The signup page (`/`): plans, wallet, purchase with live provisioning status, my servers, offline decrypt. */
import { Page } from "../../layout.tsx";
import { type SignupData, sizeText, usd } from "../signup-data.ts";

export function SignupPage(props: { title: string; accent: string; nonce: string | undefined; data: SignupData }) {
  const { data } = props;
  const coin = data.stablecoin?.symbol ?? "stablecoin";
  return (
    <Page title={props.title} accent={props.accent} nonce={props.nonce} scripts={["signup"]} data={data}>
      <section class="card" id="step-plan" aria-labelledby="h-plan">
        <h2 id="h-plan">1. Choose a plan</h2>
        {data.plans.length === 0 || !data.stablecoin ? (
          <p id="no-plans">Nothing is on sale right now. Please come back later.</p>
        ) : (
          <>
            <label for="plan-select">Plan</label>
            <select id="plan-select">
              {data.plans.map((p) => (
                <option value={String(p.id)}>
                  {`${p.name} — $${usd(p.price_cents_per_day)} per day (${sizeText(p.size)})`}
                </option>
              ))}
            </select>
            <label for="os-select">Operating system</label>
            <select id="os-select">
              {data.os.map((o) => (
                <option value={o.id}>{o.label}</option>
              ))}
            </select>
            <label for="days-input">Days</label>
            <input id="days-input" type="number" min="1" max="3650" step="1" value="30" inputmode="numeric" />
            <p>
              Total: <strong id="total-cost">—</strong> {coin}
            </p>
          </>
        )}
      </section>
      <section class="card" id="step-connect" aria-labelledby="h-connect">
        <h2 id="h-connect">2. Connect your wallet</h2>
        <button id="btn-connect" type="button">
          Connect wallet
        </button>
        <p>
          Wallet: <code id="wallet-address">not connected</code>
        </p>
      </section>
      <section class="card" id="step-purchase" aria-labelledby="h-purchase">
        <h2 id="h-purchase">3. Buy</h2>
        <p class="muted">
          Your wallet signs the text <code>{data.publicSecret}</code>; that signature, encrypted so only this host can
          read it, goes with your payment. It is the key that unlocks your server's connection details.
        </p>
        <button id="btn-purchase" type="button" disabled>
          Sign and buy
        </button>
        <ol class="steps" id="progress" hidden aria-label="Provisioning progress">
          <li data-step="paid">Paid</li>
          <li data-step="creating_vm">Creating your server</li>
          <li data-step="minting">Minting your access NFT</li>
          <li data-step="ready">Ready</li>
        </ol>
        <p id="tx-link"></p>
        <div id="purchase-result"></div>
      </section>
      <section class="card" id="step-servers" aria-labelledby="h-servers">
        <h2 id="h-servers">My servers</h2>
        <p>
          <a href="/my">Open the control panel</a>: power, console and reinstall of the servers your wallet holds.
        </p>
        <button id="btn-servers" type="button" disabled>
          Show my servers
        </button>
        <div id="server-list"></div>
      </section>
      <section class="card" id="step-offline" aria-labelledby="h-offline">
        <h2 id="h-offline">Decrypt without a browser wallet</h2>
        <label for="offline-token">Access NFT number</label>
        <input id="offline-token" inputmode="numeric" autocomplete="off" />
        <button id="btn-offline-load" type="button" class="secondary">
          Show what to sign
        </button>
        <div id="offline-info" hidden>
          <p>
            Sign this text with the wallet that holds the NFT, e.g. <code id="offline-command"></code>
          </p>
          <pre id="offline-secret"></pre>
          <label for="offline-signature">Signature (0x…)</label>
          <input id="offline-signature" autocomplete="off" spellcheck={false} />
          <button id="btn-offline-decrypt" type="button">
            Decrypt
          </button>
          <div id="offline-result"></div>
        </div>
      </section>
    </Page>
  );
}
