// Finalize's `backend` and `template` steps on Proxmox, through the real agent and the qm SIMULATOR.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { checkProxmoxTemplate, markerOf } from "../../../src/provision/backends/proxmox-template.ts";
import type { SetupContext } from "../../../src/setup/context.ts";
import type { BackendChoice } from "../../../src/setup/schema.ts";
import { hypervisorFor } from "../../../src/setup/steps/hypervisor.ts";
import { writeScopeConfig } from "../../helpers/scope-config.ts";
import { tempDir } from "../../helpers/binary.ts";
import {
  canCreateNetns,
  hostBridge,
  IMPORTABLE_MANIFEST,
  startProxmoxHost,
  TEMPLATE_VMID,
  writeTemplateImage,
  type ProxmoxHost,
} from "../../helpers/proxmox-host.ts";

const usable = canCreateNetns();
if (!usable) console.log("skip: proxmox setup-step tests need root and iproute2 (a test bridge, network namespaces)");

const STORAGE_CFG = `dir: local
\tpath /var/lib/vz
\tcontent iso,vztmpl,backup

lvmthin: local-lvm
\tthinpool data
\tvgname pve
\tcontent rootdir,images

dir: isos
\tpath /srv/isos
\tcontent iso
`;

describe.skipIf(!usable)("finalize on Proxmox: backend check and template import (qm simulator)", () => {
  let env: { dir: string; cleanup: () => void };
  let host: ProxmoxHost;
  // The host side of the VM bridge: requireBridge reads /sys/class/net, so the bridge exists in this namespace.
  let hostBr: ReturnType<typeof hostBridge>;
  let bridge = "";
  const previousRoot = process.env.BLOCKHOST_ROOT;
  const lines: string[] = [];
  const image = () => join(env.dir, "var/lib/blockhost/images/blockhost-template.qcow2");
  const writeImage = () => writeTemplateImage(image(), 2 * 1048576);
  const ctx = () =>
    ({
      fileName: "setup.yaml",
      agent: host.agent.client,
      say: (l: string) => lines.push(l),
    }) as unknown as SetupContext;
  const proxmox = (o: Record<string, unknown> = {}) =>
    hypervisorFor({
      proxmox: { node: "pve", storage: "local-lvm", bridge, template_vmid: 9400, ...o },
    } as BackendChoice);

  beforeAll(async () => {
    env = tempDir("blockhost-pxsetup-");
    process.env.BLOCKHOST_ROOT = env.dir;
    // What the chain-config step wrote before the backend and template steps run.
    writeScopeConfig(env.dir, { vmidRange: { start: 100, end: 99_999 } });
    mkdirSync(join(env.dir, "var/lib/blockhost/images"), { recursive: true });
    mkdirSync(join(env.dir, "etc/pve"), { recursive: true });
    writeFileSync(join(env.dir, "etc/pve/storage.cfg"), STORAGE_CFG);
    hostBr = hostBridge("bhsx");
    bridge = hostBr.name;
    host = await startProxmoxHost(env.dir);
  });
  afterAll(async () => {
    await host?.stop();
    hostBr?.remove();
    if (previousRoot === undefined) delete process.env.BLOCKHOST_ROOT;
    else process.env.BLOCKHOST_ROOT = previousRoot;
    env?.cleanup();
  });

  test("an existing, usable template: nothing is imported; a bridge absent from this host is named", async () => {
    const px = hypervisorFor({
      proxmox: { node: "pve", storage: "local-lvm", bridge: "vmbr0", template_vmid: TEMPLATE_VMID },
    } as BackendChoice);
    // vmbr0 lives in the simulator's namespace only: the check names it as missing here.
    await expect(px.check(ctx())).rejects.toThrow(
      "setup.yaml: backend.proxmox.bridge: no network interface named vmbr0",
    );
    const calls = host.sim.calls().length;
    expect(await px.ensureTemplate(ctx())).toEqual({ template_vmid: TEMPLATE_VMID, imported: false });
    expect(
      host.sim
        .calls()
        .slice(calls)
        .map((c) => c[0]),
    ).toEqual(["config", "config"]);
  });

  test("storage: undefined, without VM disks, or unreadable storage.cfg", async () => {
    await expect(proxmox({ storage: "tank" }).check(ctx())).rejects.toThrow(
      `setup.yaml: backend.proxmox.storage: storage 'tank' is not defined in ${env.dir}/etc/pve/storage.cfg`,
    );
    await expect(proxmox({ storage: "isos" }).check(ctx())).rejects.toThrow(
      "storage 'isos' does not hold VM disks (content is iso, needs images)",
    );
    rmSync(join(env.dir, "etc/pve/storage.cfg"));
    try {
      expect(await proxmox().check(ctx())).toMatchObject({
        storage: `storage local-lvm: not checked (${env.dir}/etc/pve/storage.cfg is not readable here)`,
      });
    } finally {
      writeFileSync(join(env.dir, "etc/pve/storage.cfg"), STORAGE_CFG);
    }
  });

  test("a free template VMID: the check leaves it to the template step, which imports the image", async () => {
    expect(await proxmox().check(ctx())).toEqual({
      backend: "proxmox",
      bridge,
      storage: "storage local-lvm: lvmthin, holds VM disks",
      template_vmid: 9400,
      template: "to import",
    });
    await expect(proxmox().ensureTemplate(ctx())).rejects.toMatchObject({
      code: "E_STATE",
      message: expect.stringContaining(
        `backend.proxmox.template_image: no image at ${image()} (with its manifest ${image()}.json); ` +
          `build one there (blockhost template build --boot bootloader --output ${image()})`,
      ),
    });
    expect(host.sim.vm(9400)).toBeUndefined();
    writeImage();
    lines.length = 0;
    expect(await proxmox().ensureTemplate(ctx())).toEqual({ template_vmid: 9400, imported: true, image: image() });
    expect(lines).toEqual([
      "creating VMID 9400 for the template",
      `importing ${image()} to local-lvm`,
      "converting VMID 9400 to a template",
    ]);
    const vm = host.sim.vm(9400)!;
    expect(vm.template).toBe(true);
    expect(vm.config).toMatchObject({
      ide2: "local-lvm:vm-9400-cloudinit,media=cdrom",
      net0: `virtio,bridge=${bridge}`,
    });
    expect(await checkProxmoxTemplate(host.agent.client, { templateVmid: 9400, bridge })).toEqual([]);
    // Run again (a re-run after a crash past the import): nothing is created twice.
    const calls = host.sim.calls().length;
    expect(await proxmox().ensureTemplate(ctx())).toEqual({ template_vmid: 9400, imported: false });
    expect(
      host.sim
        .calls()
        .slice(calls)
        .some((c) => c[0] === "create" || c[0] === "importdisk"),
    ).toBe(false);
    expect(await proxmox().check(ctx())).toMatchObject({ template: "ready" });
  });

  test("an import killed half-way (our VM, not yet a template) is removed and imported again", async () => {
    writeImage();
    host.sim.addVm({
      vmid: 9401,
      name: "blockhost-template",
      template: false,
      config: { net0: `virtio,bridge=${bridge}`, description: markerOf(IMPORTABLE_MANIFEST as never) },
    });
    expect(await proxmox({ template_vmid: 9401 }).check(ctx())).toMatchObject({ template: "to import" });
    lines.length = 0;
    expect(await proxmox({ template_vmid: 9401 }).ensureTemplate(ctx())).toMatchObject({ imported: true });
    expect(lines[0]).toBe("VMID 9401 is an interrupted template import; removing it");
    expect(host.sim.vm(9401)!.template).toBe(true);
    expect(await checkProxmoxTemplate(host.agent.client, { templateVmid: 9401, bridge })).toEqual([]);
  });

  test("a VMID held by someone else's VM is never touched: both steps name it", async () => {
    writeImage();
    host.sim.addVm({ vmid: 9402, name: "db", template: false, config: { scsi0: "local-lvm:vm-9402-disk-0,size=8G" } });
    await expect(proxmox({ template_vmid: 9402 }).check(ctx())).rejects.toThrow(
      "setup.yaml: backend.proxmox: template VMID 9402: VMID 9402 is not a template (qm template 9402)",
    );
    await expect(proxmox({ template_vmid: 9402 }).ensureTemplate(ctx())).rejects.toThrow(
      "setup.yaml: backend.proxmox.template_vmid: VMID 9402 is in use and is not a usable template",
    );
    expect(host.sim.vm(9402)).toMatchObject({ name: "db", template: false });
  });

  test("a failed import leaves no VM behind, and the step can be retried", async () => {
    writeImage();
    host.sim.failNext("importdisk", "storage 'local-lvm' is full");
    await expect(proxmox({ template_vmid: 9403 }).ensureTemplate(ctx())).rejects.toThrow("is full");
    expect(host.sim.vm(9403)).toBeUndefined();
    expect(await proxmox({ template_vmid: 9403 }).ensureTemplate(ctx())).toMatchObject({ imported: true });
  });
});
