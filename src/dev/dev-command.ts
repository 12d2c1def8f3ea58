/** `blockhost dev`: the whole stack on one machine with embedded defaults. */
import { defineCommand } from "citty";
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BlockhostError } from "../core/errors.ts";
import { paths } from "../core/paths.ts";
import { Anvil } from "./anvil.ts";
import { buyAsCustomer, customerCredential } from "./customer.ts";
import { setupDevHost } from "./host.ts";
import { customerSshLogin, libvirtReachable, prepareLibvirt } from "./libvirt.ts";
import { DemoLifetime } from "./lifetime.ts";
import { startDevServe } from "./serve.ts";
import { DRY_RUN } from "./setup-file.ts";
import { selfArgv, startService, waitForAgent, type Service } from "./services.ts";

const say = (line = "") => process.stdout.write(`${line}\n`);

export default defineCommand({
  meta: {
    name: "dev",
    description:
      "Try BlockHost on this machine: a local test chain, the services and the signup page, all in a temporary directory",
    examples: ["blockhost dev", "blockhost dev --once --keep"],
  },
  args: {
    once: {
      type: "boolean",
      description: "Make one test purchase, show the VM it created and the decrypted NFT, then stop",
    },
    keep: {
      type: "boolean",
      description: "Keep the temporary directory (config, database, logs) after stopping; its path is printed",
    },
    days: { type: "string", description: "Days of hosting the test customer buys (default 30)", valueHint: "DAYS" },
    backend: {
      type: "string",
      description:
        "auto (default: libvirt, real VMs, if libvirtd answers and we are root; else dry-run), libvirt, dry-run",
      valueHint: "BACKEND",
    },
  },
  async run({ args }) {
    const days = args.days === undefined ? 30n : /^[1-9]\d{0,3}$/.test(args.days) ? BigInt(args.days) : undefined;
    if (days === undefined) throw new BlockhostError("E_USAGE", "--days must be a whole number from 1 to 9999");
    // libvirt whenever a daemon answers (the customer's wallet login into the guest is proven, see docs/demo.md).
    const wanted = args.backend ?? "auto";
    if (!["auto", "libvirt", "dry-run"].includes(wanted))
      throw new BlockhostError("E_USAGE", "--backend must be auto, libvirt or dry-run");
    const useLibvirt = wanted === "libvirt" || (wanted === "auto" && libvirtReachable());
    if (wanted === "libvirt" && !libvirtReachable())
      throw new BlockhostError(
        "E_USAGE",
        "--backend libvirt needs root and a libvirt daemon answering on qemu:///system",
      );

    // From here on, however the demo stops (its end, an error, SIGINT/SIGTERM/SIGHUP at any moment), the
    // lifetime undoes what was made, newest first; children die with this process even if it is SIGKILLed.
    const lifetime = new DemoLifetime();
    lifetime.exitOnSignals();
    const root = mkdtempSync(join(tmpdir(), "blockhost-dev-"));
    await lifetime.add("remove the temporary root", () => {
      if (!args.keep) rmSync(root, { recursive: true, force: true });
      else
        say(`kept      ${root} (config, database, logs: BLOCKHOST_ROOT=${root} blockhost status; rm -r it when done)`);
    });
    process.env.BLOCKHOST_ROOT = root;
    const logDir = join(root, "var/log/blockhost");
    mkdirSync(logDir, { recursive: true });
    const services: Service[] = [];
    const start = async (name: string, service: () => Service | Promise<Service>): Promise<Service> => {
      const s = await service();
      services.push(s);
      await lifetime.add(`stop the ${name}`, () => s.stop());
      return s;
    };

    try {
      say(`root      ${root}`);
      const anvil = await Anvil.start();
      await lifetime.add("stop anvil", () => anvil.stop());
      say(`chain     anvil at ${anvil.rpcUrl} (chain id ${anvil.chainId})`);
      let backend = DRY_RUN;
      let vmNetwork = "";
      if (useLibvirt) {
        const lv = await prepareLibvirt(say, lifetime);
        backend = lv.backend;
        vmNetwork = `${lv.network.subnet.network}, libvirt network ${lv.network.name} on ${lv.network.bridge}`;
      }
      const agent = await start("agent", () => startService("agent", ["agent"], join(logDir, "agent.log")));
      await waitForAgent(agent);
      // Undone after the engine stops (no new VM) and before the agent does (it destroys them).
      await lifetime.add("destroy the demo's VMs", () => destroyDemoVms(root));
      say(`agent     ${paths.agentSocket}`);
      const host = await setupDevHost(
        anvil,
        (step, state) => {
          if (state === "done") say(`finalize  ${step}`);
        },
        backend,
      );
      say(`setup     finalized from ${host.setupFile} (blockhost finalize status shows each step)`);
      say(`contracts AccessCredentialNFT ${host.nft} (NFT #0 minted to the admin)`);
      say(`          BlockhostSubscriptions ${host.subscriptions} (plan 1: $1.00/day, stablecoin ${host.stablecoin})`);
      await start("engine", () => startService("engine", ["engine"], join(logDir, "engine.log")));
      say(
        useLibvirt
          ? `engine    watching the chain; backend libvirt (real VMs on the isolated network ${vmNetwork})`
          : `engine    watching the chain; backend dry-run (no VM is started: every other step runs)`,
      );
      const web = await startDevServe(join(logDir, "serve.log"));
      services.push(web.service);
      await lifetime.add("stop the web front", () => web.service.stop());
      say(`signup    ${web.url}/  (self-signed certificate)`);
      say(`admin     ${web.url}/admin  (log in with the wallet that holds NFT #0)`);
      say(`rpc       ${anvil.rpcUrl}  chain id ${anvil.chainId}: add it to your browser wallet`);
      say(`logs      ${logDir}`);
      say();
      say(
        `customer  ${host.customer.address} holds 1000 test USDC and buys ${days} days of plan 1 ` +
          `($${days}.00 at $1.00/day)`,
      );
      say(`          its key is anvil's public dev key #1: ${anvil.accounts[1]!.privateKey}`);
      say(`          (import it into a browser wallet to buy on the signup page)`);

      const purchase = await buyAsCustomer(host, host.customer, days);
      say(`paid      subscription #${purchase.subscriptionId}; waiting for the engine to provision and mint…`);
      const credential = await waitFor(
        () => customerCredential(host, host.customer, purchase.signature),
        services,
        lifetime,
      );
      say(`minted    access NFT #${credential.tokenId} to the customer`);
      say(`decrypted with the customer's signature: ${JSON.stringify(credential.details)}`);
      say();
      if (useLibvirt) {
        const { hostname, username } = credential.details as { hostname: string; username: string };
        say(`$ ssh ${username}@${hostname} id     # keyboard-interactive: the customer's wallet signs the code shown`);
        say(await customerSshLogin(hostname, username, host.customer, Date.now() + 30 * 60_000));
        say();
      }
      for (const cmd of [["vm", "list"], ["status"]]) {
        say(`$ BLOCKHOST_ROOT=${root} blockhost ${cmd.join(" ")}`);
        say(
          Bun.spawnSync([...selfArgv(), ...cmd], { env: { ...process.env, BLOCKHOST_ROOT: root } })
            .stdout.toString()
            .trimEnd(),
        );
        say();
      }

      if (!args.once) {
        say("Running. Press Ctrl-C to stop.");
        await lifetime.untilStopped();
      }
    } finally {
      await lifetime.stop();
    }
  },
});

/** Destroy every VM the demo's database knows that is not destroyed yet (bought here or on the signup page). */
function destroyDemoVms(root: string): void {
  if (!existsSync(join(root, "var/lib/blockhost/blockhost.db"))) return;
  const listed = Bun.spawnSync([...selfArgv(), "vm", "list", "--json"], {
    env: { ...process.env, BLOCKHOST_ROOT: root },
  });
  if (listed.exitCode !== 0) return;
  const vms = JSON.parse(listed.stdout.toString()) as Array<{ vm_name: string; status: string }>;
  for (const vm of vms.filter((v) => v.status !== "destroyed"))
    Bun.spawnSync([...selfArgv(), "vm", "destroy", vm.vm_name], {
      env: { ...process.env, BLOCKHOST_ROOT: root },
      stdout: "ignore",
      stderr: "ignore",
    });
}

/** Poll until `check` yields a value; fail if a service dies meanwhile (no fixed time limit: Ctrl-C ends it). */
async function waitFor<T>(
  check: () => Promise<T | undefined>,
  services: Service[],
  lifetime: DemoLifetime,
): Promise<T> {
  for (;;) {
    if (lifetime.stopping) throw new BlockhostError("E_INTERNAL", "the demo is stopping");
    const value = await check();
    if (value !== undefined) return value;
    const dead = services.find((s) => s.proc.exitCode !== null);
    if (dead)
      throw new BlockhostError("E_INTERNAL", `the ${dead.name} exited with code ${dead.proc.exitCode}; see its log`);
    await Bun.sleep(250);
  }
}
