/** The customer panel's wallet sign-in and the signed confirmation a reinstall needs. */
import { WalletLogin, WalletSessions } from "../../session/index.ts";
import type { ServeDeps } from "../deps.ts";

const PANEL_IDLE_MS = 30 * 60_000;

/** Sign-in to "My servers": the session names the wallet; what it holds is read from the chain per action. */
export function panelLogin(deps: ServeDeps): WalletLogin {
  return new WalletLogin({
    purpose: "panel",
    hostName: deps.hostName,
    chainId: deps.chainId,
    statement: () => "Sign in to My servers: power, console and reinstall of the servers this wallet holds.",
  });
}

/** A reinstall erases the disk: the holder signs this exact sentence (subject `<vm>:<os>`) for each one. */
export function reinstallConfirmation(deps: ServeDeps): WalletLogin {
  return new WalletLogin({
    purpose: "reinstall",
    hostName: deps.hostName,
    chainId: deps.chainId,
    statement: (subject) => {
      const [vm, os] = subject.split(":");
      return `Reinstall ${vm} with ${os}. Everything on its disk is erased.`;
    },
    perClient: 2,
  });
}

export const panelSessions = () => new WalletSessions({ cookieName: "bh_panel", idleMs: PANEL_IDLE_MS });
