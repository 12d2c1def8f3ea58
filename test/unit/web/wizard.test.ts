/** The wizard's gate through app.request(): OTP login with per-client back-off, Secure sessions on every route, CSRF on every POST. */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { mkdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { privateKeyToAccount } from "viem/accounts";
import { AgentClient } from "../../../src/agent/client.ts";
import { MIGRATIONS } from "../../../src/core/state/migrations.ts";
import { migrate } from "../../../src/core/state/db.ts";
import { createWizardApp } from "../../../src/web/wizard/app.ts";
import { OTP_ALPHABET, OtpStore } from "../../../src/web/wizard/otp.ts";
import { sealDraft, openBackup } from "../../../src/web/wizard/backup.ts";
import { tempDir } from "../../helpers/binary.ts";

const KEY = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d" as const;

let dir: ReturnType<typeof tempDir>;
let otp: OtpStore;
let code: string;
let wizard: ReturnType<typeof createWizardApp>;
let now = 0;

beforeEach(() => {
  dir = tempDir("blockhost-wizard-unit-");
  otp = new OtpStore(join(dir.dir, "otp.json"));
  code = otp.generate();
  const db = new Database(":memory:");
  migrate(db, MIGRATIONS);
  now = Date.now();
  wizard = createWizardApp({
    otp,
    db,
    agent: new AgentClient({ socketPath: join(dir.dir, "none.sock") }),
    tls: true,
    now: () => now,
  });
});
afterEach(() => rmSync(dir.dir, { recursive: true, force: true }));

const form = (fields: Record<string, string>, cookie = "") => ({
  method: "POST",
  headers: { "content-type": "application/x-www-form-urlencoded", ...(cookie ? { cookie } : {}) },
  body: new URLSearchParams(fields).toString(),
});
const cookieOf = (r: Response) => (r.headers.get("set-cookie") ?? "").split(";")[0]!;

async function login(): Promise<{ cookie: string; csrf: string }> {
  const r = await wizard.app.request("/login", form({ otp: code.toLowerCase() }));
  expect(r.status).toBe(303);
  const cookie = cookieOf(r);
  const page = await (await wizard.app.request("/wizard/wallet", { headers: { cookie } })).text();
  const csrf = /&quot;csrf&quot;:&quot;([A-Za-z0-9_-]+)&quot;/.exec(page)![1]!;
  return { cookie, csrf };
}

describe("OTP", () => {
  test("6 characters from the unambiguous alphabet, stored 0600", () => {
    expect(code).toMatch(new RegExp(`^[${OTP_ALPHABET}]{6}$`));
    expect(statSync(join(dir.dir, "otp.json")).mode & 0o777).toBe(0o600);
  });

  /** A request as Bun.serve hands it to the app, from `address`. */
  const from = (address: string) => ({
    requestIP: () => ({ address, family: address.includes(":") ? "IPv6" : "IPv4", port: 40000 }),
  });

  test("wrong codes make that client wait, doubling; another client still gets in at once", async () => {
    const attacker = from("203.0.113.9");
    const waits: (string | null)[] = [];
    for (let i = 0; i < 4; i++) {
      const wrong = await wizard.app.request("/login", form({ otp: "WRONG1" }), attacker);
      expect(wrong.status).toBe(401);
      // During the wait even the right code is not checked.
      const early = await wizard.app.request("/login", form({ otp: code }), attacker);
      expect(early.status).toBe(429);
      expect(early.headers.get("set-cookie")).toBeNull();
      waits.push(early.headers.get("retry-after"));
      now += Number(early.headers.get("retry-after")) * 1000;
    }
    expect(waits).toEqual(["1", "2", "4", "8"]);
    // Another address of the same IPv6 /64 is the same client; the operator elsewhere is not.
    const v6 = from("2001:db8:5:6::1");
    expect((await wizard.app.request("/login", form({ otp: "WRONG1" }), v6)).status).toBe(401);
    expect((await wizard.app.request("/login", form({ otp: code }), from("2001:db8:5:6::99"))).status).toBe(429);
    const operator = await wizard.app.request("/login", form({ otp: code }), from("198.51.100.20"));
    expect(operator.status).toBe(303);
    // After its wait the attacker's next try is checked again (no global lockout, no lost code).
    expect((await wizard.app.request("/login", form({ otp: code }), attacker)).status).toBe(303);
  });

  test("the right code logs in with a __Host- HttpOnly Secure SameSite=Strict cookie", async () => {
    const r = await wizard.app.request("/login", form({ otp: code }));
    expect(r.status).toBe(303);
    const cookie = r.headers.get("set-cookie") ?? "";
    expect(cookie).toMatch(/^__Host-bh_wizard=/);
    for (const flag of ["HttpOnly", "Secure", "SameSite=Strict"]) expect(cookie).toContain(flag);
  });
});

describe("routes", () => {
  test("every route but the login is refused without a session", async () => {
    const pages = [
      "/wizard/wallet",
      "/wizard/network",
      "/wizard/blockchain",
      "/wizard/summary",
      "/api/finalize/status",
      "/api/finalize/events",
      "/api/finalize/config",
    ];
    for (const path of pages) {
      const r = await wizard.app.request(path);
      expect({ path, status: r.status }).toEqual({ path, status: path.startsWith("/api/") ? 401 : 303 });
      if (r.status === 303) expect(r.headers.get("location")).toBe("/login");
    }
    for (const path of ["/api/wallet", "/api/restore", "/api/finalize", "/api/finalize/retry", "/wizard/network"]) {
      expect((await wizard.app.request(path, { method: "POST", body: "{}" })).status).toBe(401);
    }
  });

  test("a POST without the CSRF token is 403; with it, it is served", async () => {
    const { cookie, csrf } = await login();
    const fields = { ipv4_network: "10.0.0.0/24", ipv4_start: "10", ipv4_end: "20", ipv4_gateway: "10.0.0.1" };
    expect((await wizard.app.request("/wizard/network", form(fields, cookie))).status).toBe(403);
    expect(
      (
        await wizard.app.request("/api/finalize", {
          method: "POST",
          headers: { cookie, "content-type": "application/json" },
          body: "{}",
        })
      ).status,
    ).toBe(403);
    // With the token but before the wallet gate: sent back to the wallet page.
    const gated = await wizard.app.request("/wizard/network", form({ ...fields, csrf }, cookie));
    expect(gated.headers.get("location")).toBe("/wizard/wallet");
  });

  test("the wallet gate accepts only the wallet's own signature of the public secret", async () => {
    const { cookie, csrf } = await login();
    const account = privateKeyToAccount(KEY);
    const post = (body: unknown) =>
      wizard.app.request("/api/wallet", {
        method: "POST",
        headers: { cookie, "x-csrf-token": csrf, "content-type": "application/json" },
        body: JSON.stringify(body),
      });
    const other = await account.signMessage({ message: "something else" });
    expect((await post({ address: account.address, signature: other, public_secret: "blockhost-access" })).status).toBe(
      400,
    );
    const good = await account.signMessage({ message: "blockhost-access" });
    // The signature of one text does not pass for another public secret.
    expect((await post({ address: account.address, signature: good, public_secret: "my-host" })).status).toBe(400);
    // The address rule is core's (EIP-55 when mixed case): one case-flipped letter breaks the checksum.
    const flip = account.address.replace(/[a-f]/, (c) => c.toUpperCase());
    const refused = await post({ address: flip, signature: good, public_secret: "blockhost-access" });
    expect(refused.status).toBe(400);
    expect(await refused.text()).toContain("checksum");
    const r = await post({ address: account.address, signature: good, public_secret: "blockhost-access" });
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual({ wallet: account.address });
    const bad = await wizard.app.request(
      "/wizard/network",
      form({ ipv4_network: "10.0.0.1/24", ipv4_start: "10", ipv4_end: "20", ipv4_gateway: "10.0.0.1", csrf }, cookie),
    );
    expect(bad.status).toBe(400);
    expect(await bad.text()).toContain("network.ipv4.network: expected an IPv4 network");
  });
});

/** Log in and pass the wallet gate; returns what a page request needs. */
async function signedIn(publicSecret = "blockhost-access") {
  const { cookie, csrf } = await login();
  const account = privateKeyToAccount(KEY);
  const signature = await account.signMessage({ message: publicSecret });
  const r = await wizard.app.request("/api/wallet", {
    method: "POST",
    headers: { cookie, "x-csrf-token": csrf, "content-type": "application/json" },
    body: JSON.stringify({ address: account.address, signature, public_secret: publicSecret }),
  });
  expect(r.status).toBe(200);
  return { cookie, csrf };
}

describe("steps", () => {
  const network = { ipv4_network: "10.0.0.0/24", ipv4_start: "10", ipv4_end: "20", ipv4_gateway: "10.0.0.1" };
  const hypervisor = {
    backend: "proxmox",
    bridge: "vmbr0",
    pve_node: "pve1",
    pve_storage: "local-lvm",
    template_vmid: "9001",
    template_image: "/var/lib/blockhost/images/t.qcow2",
  };

  test("an admin's own public secret is signed, kept and shown in the summary", async () => {
    const { cookie } = await signedIn("Host 7 of ACME");
    const wallet = await (await wizard.app.request("/wizard/wallet", { headers: { cookie } })).text();
    expect(wallet).toContain('value="Host 7 of ACME"');
    const summary = await (await wizard.app.request("/wizard/summary", { headers: { cookie } })).text();
    expect(summary).toContain("Host 7 of ACME");
  });

  test("the VMID range: checked against itself and the Proxmox template, kept when the network is saved again", async () => {
    const { cookie, csrf } = await signedIn();
    const post = (path: string, fields: Record<string, string>) =>
      wizard.app.request(path, form({ ...fields, csrf }, cookie));
    expect((await post("/wizard/hypervisor", { ...hypervisor, vmid_start: "200", vmid_end: "300" })).status).toBe(400);
    expect((await post("/wizard/network", network)).status).toBe(303);
    const reversed = await post("/wizard/hypervisor", { ...hypervisor, vmid_start: "300", vmid_end: "200" });
    expect(reversed.status).toBe(400);
    const refused = await reversed.text();
    expect(refused).toContain("vmid_range: expected a first VMID no larger than the last");
    // What was typed comes back, so nothing is lost.
    expect(refused).toContain('id="vmid_start" name="vmid_start" type="text" value="300"');
    expect(refused).toContain('id="pve_node" name="pve_node" type="text" value="pve1"');
    const clash = await post("/wizard/hypervisor", { ...hypervisor, vmid_start: "100", vmid_end: "9999" });
    expect(await clash.text()).toContain(
      "backend.proxmox.template_vmid: expected a VMID outside the customer range 100-9999",
    );
    const ok = await post("/wizard/hypervisor", { ...hypervisor, vmid_start: "200", vmid_end: "300" });
    expect(ok.headers.get("location")).toBe("/wizard/ipv6");
    expect((await post("/wizard/network", network)).status).toBe(303);
    const summary = await (await wizard.app.request("/wizard/summary", { headers: { cookie } })).text();
    expect(summary).toContain("start: 200, end: 300");
    const strategy = await post("/wizard/hypervisor", {
      ...hypervisor,
      vmid_start: "200",
      vmid_end: "300",
      cluster_strategy: "least_loaded_fast",
    });
    expect(await strategy.text()).toContain("backend");
    expect(strategy.status).toBe(400);
    await post("/wizard/hypervisor", {
      ...hypervisor,
      vmid_start: "200",
      vmid_end: "300",
      cluster_strategy: "least_loaded_cpu",
    });
    expect(await (await wizard.app.request("/wizard/summary", { headers: { cookie } })).text()).toContain(
      "&quot;cluster_strategy&quot;:&quot;least_loaded_cpu&quot;",
    );
    expect(summary).toContain("&quot;template_image&quot;:&quot;/var/lib/blockhost/images/t.qcow2&quot;");
  });

  test("a Proxmox host is detected from storage.cfg: node, storages with VM disks, Proxmox preselected", async () => {
    const { cookie } = await signedIn();
    const page = async () => (await wizard.app.request("/wizard/hypervisor", { headers: { cookie } })).text();
    expect(await page()).toContain("No Proxmox VE on this host");
    mkdirSync(join(dir.dir, "etc/pve"), { recursive: true });
    writeFileSync(
      join(dir.dir, "etc/pve/storage.cfg"),
      "dir: local\n\tpath /var/lib/vz\n\tcontent iso,backup\n\nzfspool: tank\n\tpool tank/vm\n\tcontent images,rootdir\n",
    );
    const previous = process.env.BLOCKHOST_ROOT;
    process.env.BLOCKHOST_ROOT = dir.dir;
    try {
      const html = await page();
      expect(html).toContain(`Proxmox VE detected: node ${hostname().split(".")[0]}, storages holding VM disks: tank.`);
      expect(html).toMatch(/id="backend-proxmox" name="backend" value="proxmox" checked/);
      expect(html).toContain('id="pve_storage" name="pve_storage" type="text" value="tank"');
      expect(html).toContain("This node is not in a Proxmox VE cluster: VMs stay on it.");
      expect(html).toContain('id="cluster_strategy" name="cluster_strategy" type="text" value=""');
      // A cluster: pmxcfs has corosync.conf and one directory per member; placement is offered.
      writeFileSync(join(dir.dir, "etc/pve/corosync.conf"), "totem {}\n");
      for (const n of ["pve1", "pve2", "pve3"]) mkdirSync(join(dir.dir, "etc/pve/nodes", n), { recursive: true });
      const clustered = await page();
      expect(clustered).toContain("Proxmox VE cluster detected: nodes pve1, pve2, pve3.");
      expect(clustered).toContain('id="cluster_strategy" name="cluster_strategy" type="text" value="least_loaded_ram"');
    } finally {
      if (previous === undefined) delete process.env.BLOCKHOST_ROOT;
      else process.env.BLOCKHOST_ROOT = previous;
    }
  });

  test("Check this host: the backend step's check on the form as entered, nothing saved", async () => {
    const { cookie, csrf } = await signedIn();
    const check = (fields: Record<string, string>, token = csrf) =>
      wizard.app.request("/api/hypervisor-check", {
        method: "POST",
        headers: { cookie, "x-csrf-token": token, "content-type": "application/json" },
        body: JSON.stringify(fields),
      });
    const range = { vmid_start: "100", vmid_end: "999" };
    expect((await check({ backend: "dry-run", ...range }, "wrong")).status).toBe(403);
    const early = await check({ backend: "dry-run", ...range });
    expect(early.status).toBe(400);
    expect((await early.json()).error).toBe("network: expected the network step first");
    await wizard.app.request("/wizard/network", form({ ...network, csrf }, cookie));
    expect(await (await check({ backend: "dry-run", ...range })).json()).toEqual({
      ok: true,
      message: "This host is ready for the hypervisor as entered.",
      lines: ["backend: dry-run", "note: no hypervisor is called; nothing to check"],
    });
    expect(await (await check({ ...hypervisor, bridge: "bhnone0", ...range })).json()).toEqual({
      ok: false,
      message: "hypervisor: backend.proxmox.bridge: no network interface named bhnone0 on this host",
      lines: [],
    });
    const summary = await (await wizard.app.request("/wizard/summary", { headers: { cookie } })).text();
    expect(summary).toContain('<th scope="row">hypervisor</th><td><code>(not set)</code>');
  });

  test("progress by server-sent events: the run's state as a progress event, then the stream ends", async () => {
    const { cookie } = await signedIn();
    const r = await wizard.app.request("/api/finalize/events", { headers: { cookie } });
    expect(r.status).toBe(200);
    expect(r.headers.get("content-type")).toStartWith("text/event-stream");
    const text = await r.text(); // ends: nothing is running
    const event = /^event: progress\ndata: (.*)$/m.exec(text);
    const view = JSON.parse(event![1]!);
    expect(view).toMatchObject({ running: false, complete: false, error: null, progress: {} });
    expect(view.steps.map((s: { step: string }) => s.step)).toContain("template");
  });
});

describe("backup", () => {
  test("opens only with the admin's signature and restores the same draft", async () => {
    const account = privateKeyToAccount(KEY);
    const signature = await account.signMessage({ message: "blockhost-access" });
    const draft = {
      admin: { wallet: account.address, public_secret: "blockhost-access", signature },
      network: {
        ipv4: { network: "10.0.0.0/24", start: 10, end: 20, gateway: "10.0.0.1" },
        ipv6: "none" as const,
        gc_grace_days: 7,
      },
      deployer_key: "11".repeat(32),
    };
    const sealed = sealDraft(draft, signature);
    expect(sealed).not.toContain("10.0.0.0");
    expect(openBackup(sealed, signature, account.address)).toEqual({
      network: draft.network,
      deployer_key: draft.deployer_key,
    });
    const stranger = await privateKeyToAccount(`0x${"22".repeat(32)}`).signMessage({ message: "blockhost-access" });
    expect(() => openBackup(sealed, stranger, account.address)).toThrow("does not open with your wallet's signature");
  });
});
