/** Every filesystem path BlockHost uses, under one root. */
import { join } from "node:path";

/**
 * Every filesystem path BlockHost uses. All of them hang off one root, taken from
 * BLOCKHOST_ROOT (default "/") each time a path is asked for, so tests and `dev`
 * can point a whole process tree at a temp dir.
 */
export function root(): string {
  return process.env.BLOCKHOST_ROOT || "/";
}

const under = (...parts: string[]) => join(root(), ...parts);

export const paths = {
  get root() {
    return root();
  },
  get configDir() {
    return under("etc/blockhost");
  },
  get stateDir() {
    return under("var/lib/blockhost");
  },
  get runDir() {
    return under("run/blockhost");
  },
  /** Per-session serial console sockets the agent creates (0711 root; each socket 0600, its caller's). */
  get consoleDir() {
    return under("run/blockhost/console");
  },
  /** Proxmox qemu-server's runtime dir: `<vmid>.serial0` is a VM's serial port (`serial0: socket`). */
  get qemuServerRunDir() {
    return under("var/run/qemu-server");
  },
  get agentSocket() {
    return under("run/blockhost/root-agent.sock");
  },
  get agentConfig() {
    return under("etc/blockhost/agent.yaml");
  },
  get database() {
    return under("var/lib/blockhost/blockhost.db");
  },
  /** The root agent's own directory (0755 root): only root writes here, the service may read. */
  get agentDir() {
    return under("var/lib/blockhost-agent");
  },
  /** Private (0700) copies of client files while an agent command uses them. */
  get agentStagingDir() {
    return under("var/lib/blockhost-agent/staging");
  },
  /** Setup is over: the agent refuses setup-only actions from then on (only root can write or remove it). */
  get setupComplete() {
    return under("var/lib/blockhost-agent/setup-complete");
  },
  /**
   * Where the marker lived before (in the service's own directory, so the service could delete it).
   * Still counts as complete when present; the agent then writes the new marker.
   */
  get legacySetupComplete() {
    return under("var/lib/blockhost/.setup-complete");
  },
  get dbConfig() {
    return under("etc/blockhost/db.yaml");
  },
  get web3Config() {
    return under("etc/blockhost/web3-defaults.yaml");
  },
  get blockhostConfig() {
    return under("etc/blockhost/blockhost.yaml");
  },
  get addressbook() {
    return under("etc/blockhost/addressbook.json");
  },
  get brokerAllocation() {
    return under("etc/blockhost/broker-allocation.json");
  },
  /** The host's WireGuard private key for the broker tunnel (0600 root; never leaves this directory). */
  get wgBrokerKey() {
    return under("etc/blockhost/wg-broker.key");
  },
  /** wg-quick's config of the persistent broker tunnel (no key inside: PostUp loads wgBrokerKey). */
  get wgBrokerConf() {
    return under("etc/wireguard/wg-broker.conf");
  },
  get serverKey() {
    return under("etc/blockhost/server.key");
  },
  get serverPubkey() {
    return under("etc/blockhost/server.pubkey");
  },
  get deployerKey() {
    return under("etc/blockhost/deployer.key");
  },
  /** The host's TLS certificate and key (https step; `serve` reads them through https.json). */
  get tlsDir() {
    return under("etc/blockhost/tls");
  },
  get tlsCert() {
    return under("etc/blockhost/tls/cert.pem");
  },
  get tlsKey() {
    return under("etc/blockhost/tls/key.pem");
  },
  /** The wizard's one-time password (0600, blockhost user). */
  get wizardOtp() {
    return under("var/lib/blockhost/wizard-otp.json");
  },
  /** The wizard's self-signed certificate and key (blockhost user; kept so the printed fingerprint stays the same). */
  get wizardTlsCert() {
    return under("var/lib/blockhost/wizard-tls/cert.pem");
  },
  get wizardTlsKey() {
    return under("var/lib/blockhost/wizard-tls/key.pem");
  },
  /** The setup file the wizard writes on confirm and hands to the finalization runner. */
  get wizardSetupFile() {
    return under("var/lib/blockhost/wizard-setup.yaml");
  },
  get cloudInitDir() {
    return under("var/lib/blockhost/cloud-init");
  },
  get snippetsDir() {
    return under("var/lib/vz/snippets");
  },
  /** Proxmox's storage definitions (pmxcfs), read to find where a snippet storage keeps its files. */
  get pveStorageConfig() {
    return under("etc/pve/storage.cfg");
  },
  get imagesDir() {
    return under("var/lib/blockhost/images");
  },
  /**
   * libvirt storage, outside the 0750 state dir because qemu (user libvirt-qemu) must traverse it:
   * templates/ holds the template image, vms/<name>/ each VM's overlay, seed ISO, kernel, initrd, XML.
   */
  get libvirtDir() {
    return under("var/lib/libvirt/blockhost");
  },
  get templatesDir() {
    return under("var/lib/libvirt/blockhost/templates");
  },
  get vmsDir() {
    return under("var/lib/libvirt/blockhost/vms");
  },
  /** The agent's record of each libvirt VM port's MAC/IP binding (root-only; the nftables table is rebuilt from it). */
  get portGuardDir() {
    return under("var/lib/blockhost-agent/port-guard");
  },
  /** Proxmox's per-guest firewall files (`<vmid>.fw`, cluster-wide in pmxcfs). */
  get pveFirewallDir() {
    return under("etc/pve/firewall");
  },
  /** sshd's log on hosts with rsyslog (knock narrowing reads logins from it). */
  get authLog() {
    return under("var/log/auth.log");
  },
  /** The admin panel writes its client's IP here on every authenticated request (narrows a knock). */
  get knockActive() {
    return under("run/blockhost/knock.active");
  },
  get pamConfig() {
    return under("etc/pam_web3/config.toml");
  },
  get pamRunDir() {
    return under("run/libpam-web3");
  },
  get pamPendingDir() {
    return under("run/libpam-web3/pending");
  },
  /** Root-only records tying a PAM conversation (challenge → verify) to its OTP. */
  get pamAttemptsDir() {
    return under("run/libpam-web3/attempts");
  },
  /** Root-only used-code records: a signature is accepted once (on disk: kept across reboots until the code expires). */
  get pamUsedDir() {
    return under("var/lib/libpam-web3/used");
  },
  get signingHostFile() {
    return under("run/libpam-web3/signing_host");
  },
  /** In a VM: the operator's or cloud-init's choice of signing host (e.g. an onion name); wins over detection. */
  get hostAddressOverride() {
    return under("etc/blockhost/host-address");
  },
  /** IPv6 forwarding (and proxy_ndp on the uplink) for manual and broker modes, applied at every boot. */
  get ipv6Sysctl() {
    return under("etc/sysctl.d/99-blockhost-ipv6.conf");
  },
  /** Certificate and key `blockhost serve` uses (written by finalize). */
  get httpsConfig() {
    return under("etc/blockhost/https.json");
  },
  /** ACME HTTP-01 tokens, served by `blockhost serve` on port 80 at /.well-known/acme-challenge/. */
  get acmeChallengeDir() {
    return under("var/lib/blockhost/acme-challenge");
  },
  get pamTlsDir() {
    return under("etc/libpam-web3/tls");
  },
  /** Resolve a file name inside the config dir (never escapes it: callers validate names). */
  config(name: string) {
    return join(this.configDir, name);
  },
  state(name: string) {
    return join(this.stateDir, name);
  },
};
