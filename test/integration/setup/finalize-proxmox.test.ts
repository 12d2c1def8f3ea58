// `blockhost finalize` on anvil with the Proxmox backend: the template step imports the image (qm SIMULATOR, real agent).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { startAnvil, type Anvil } from "../../helpers/anvil.ts";
import {
  anvilProxmoxUnavailable,
  hostBridge,
  startProxmoxHost,
  writeProxmoxSetupFiles,
  type ProxmoxHost,
} from "../../helpers/proxmox-host.ts";
import { deployTestStablecoin, setupHost, type SetupHost } from "../../helpers/setup-host.ts";

const unavailable = anvilProxmoxUnavailable();
if (unavailable) console.log(`skip: finalize on Proxmox: ${unavailable}`);

describe.skipIf(Boolean(unavailable))("blockhost finalize with backend proxmox", () => {
  let anvil: Anvil;
  let host: SetupHost;
  let px: ProxmoxHost;
  let bridge: ReturnType<typeof hostBridge>;

  beforeAll(async () => {
    anvil = await startAnvil();
    const coin = await deployTestStablecoin(anvil);
    host = await setupHost(anvil, coin, async (root) => {
      px = await startProxmoxHost(root);
      return px.agent;
    });
    bridge = hostBridge("bhfp");
    const template_image = writeProxmoxSetupFiles(host.root);
    host.data.backend = {
      proxmox: { node: "pve", storage: "local-lvm", bridge: bridge.name, template_vmid: 9500, template_image },
    };
    host.write();
  });
  afterAll(async () => {
    await host?.stop();
    await px?.stop();
    bridge?.remove();
    await anvil?.stop();
  });

  test("the template step imports the image as VMID 9500, printing its progress; a re-run imports nothing", async () => {
    const run = await host.finalize();
    expect(run.stderr).not.toContain("failed");
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("running  template — creating VMID 9500 for the template\n");
    expect(run.stdout).toContain("running  template — converting VMID 9500 to a template\n");
    expect(px.sim.vm(9500)).toMatchObject({ template: true, config: { net0: `virtio,bridge=${bridge.name}` } });
    const steps = JSON.parse((await host.finalize(["status", "--json"])).stdout).steps as Array<{
      step: string;
      result: Record<string, unknown>;
    }>;
    expect(steps.find((s) => s.step === "backend")!.result).toMatchObject({ template: "to import" });
    expect(steps.find((s) => s.step === "template")!.result).toMatchObject({ template_vmid: 9500, imported: true });
    const yaml = parse(readFileSync(join(host.root, "etc/blockhost/blockhost.yaml"), "utf8"));
    expect(yaml.backend).toBe("proxmox");
    expect(yaml.proxmox).toEqual({ node: "pve", storage: "local-lvm", bridge: bridge.name, template_vmid: 9500 });
    const creates = px.sim.calls().filter((c) => c[0] === "create").length;
    expect((await host.finalize()).code).toBe(0);
    expect(px.sim.calls().filter((c) => c[0] === "create").length).toBe(creates);
  }, 120_000);
});
