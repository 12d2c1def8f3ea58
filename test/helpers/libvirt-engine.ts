// An engine host on real libvirt (the VM e2e test and the P1 bench): cached template, isolated network, agent, EngineEnv.
import { chmodSync } from "node:fs";
import type { CachedTemplate } from "../../src/template/cache.ts";
import { DEFAULT_OS, type OsId } from "../../src/core/template/os.ts";
import { startAgent, type RunningAgent } from "./agent.ts";
import { EngineEnv, type EngineEnvOptions } from "./engine-env.ts";
import {
  TEST_BRIDGE,
  TEST_NETWORK,
  cachedTemplate,
  installTemplate,
  startTestNetwork,
  virshOut,
} from "./libvirt-host.ts";

export interface LibvirtEngineHost {
  readonly env: EngineEnv;
  readonly agent: RunningAgent;
  readonly template: CachedTemplate;
  /** Templates of the other OSes asked for (`oses`), installed beside the default one. */
  readonly templates: Partial<Record<OsId, CachedTemplate>>;
  /** Destroy the test's domain, then stop the agent, the network and the environment (the engine is the caller's). */
  stop(): Promise<void>;
}

/** The domains these tests create: the engine's first VM, and one made by `vm create` (TEST_VM_NAME). */
export const TEST_VM_NAME = "bhtest-os";
const TEST_DOMAINS = ["blockhost-001", TEST_VM_NAME];

/**
 * Everything but the engine for a purchase → libvirt VM run: the template for this guest binary (built
 * when the cache lacks it), an EngineEnv on the libvirt backend with the test network's pools, the
 * isolated network and a real agent. libvirtd must already answer (ensureLibvirtd).
 */
export async function startLibvirtEngineHost(opts: {
  guestAgentTimeoutS: number;
  engine?: EngineEnvOptions["engine"];
  /** db.yaml ip_pool.nameservers (default: unset, so the host's own resolvers). */
  nameservers?: string[];
  /** Other OSes whose templates are built (or taken from the cache) and installed too. */
  oses?: OsId[];
}): Promise<LibvirtEngineHost> {
  const template = await cachedTemplate();
  const templates: Partial<Record<OsId, CachedTemplate>> = {};
  for (const os of opts.oses ?? []) templates[os] = await cachedTemplate(os);
  const offered = opts.oses?.length ? `\nos: [${[DEFAULT_OS, ...opts.oses].join(", ")}]` : "";
  const ns = opts.nameservers ? `, nameservers: [${opts.nameservers.map((n) => `'${n}'`).join(", ")}]` : "";
  const env = await EngineEnv.create({
    backend: "libvirt",
    // The other OSes are offered too (blockhost.yaml `os:`), as an operator lists a template once it is built.
    backendYaml: `libvirt: {bridge: ${TEST_BRIDGE}, network: ${TEST_NETWORK}, accel: auto, guest_agent_timeout_s: ${opts.guestAgentTimeoutS}}${offered}`,
    ipPool: `{network: '10.215.0.0/24', start: 10, end: 50, gateway: '10.215.0.1'${ns}}`,
    ipv6Prefix: "fd42:b10c::/120",
    ...(opts.engine ? { engine: opts.engine } : {}),
  });
  let network: { stop: () => void } | undefined;
  let agent: RunningAgent | undefined;
  const stop = async () => {
    for (const name of TEST_DOMAINS)
      if (virshOut("domstate", name).code === 0) {
        virshOut("destroy", name);
        virshOut("undefine", name);
      }
    await agent?.stop();
    network?.stop();
    await env.stop();
  };
  try {
    chmodSync(env.root, 0o755);
    installTemplate(env.root, template.image);
    for (const [os, t] of Object.entries(templates)) installTemplate(env.root, t.image, os as OsId);
    network = startTestNetwork("10.215.0.1", "fd42:b10c::1");
    agent = await startAgent({ root: env.root });
  } catch (e) {
    await stop();
    throw e;
  }
  return { env, agent, template, templates, stop };
}
