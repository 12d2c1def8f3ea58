/** The built .deb: contents, lintian, unit files and their systemd-analyze security scores, man pages, completions. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { changelogVersion } from "../../../scripts/package-deb.ts";
import { REPO, runBlockhost, tempDir } from "../../helpers/binary.ts";
import { DEB_VERSION, ensureDeb } from "../../helpers/deb.ts";

const MINUTE = 60_000;
const tools = ["/usr/bin/dpkg-buildpackage", "/usr/bin/lintian", "/usr/bin/systemd-analyze", "/usr/bin/dh"];
const missing = tools.filter((t) => !existsSync(t));
if (missing.length)
  console.log(`skipping the .deb tests: missing ${missing.join(", ")} (apt-get install debhelper lintian systemd)`);

const run = (argv: string[], cwd?: string) => {
  const r = Bun.spawnSync(argv, { cwd, stdout: "pipe", stderr: "pipe", env: { ...process.env, LC_ALL: "C.UTF-8" } });
  return { code: r.exitCode, out: r.stdout.toString(), err: r.stderr.toString() };
};

/** Exposure ceilings (systemd-analyze security, 0 = locked down … 10 = exposed). The agent is root by design. */
const MAX_EXPOSURE: Record<string, number> = {
  "blockhost-engine.service": 2.5,
  "blockhost-serve.service": 2.5,
  "blockhost-wizard.service": 2.5,
  "blockhost-gc.service": 2.5,
  "blockhost-agent.service": 6.5,
};

describe.skipIf(missing.length > 0)("npm run package → dist/blockhost_<version>_amd64.deb", () => {
  let deb: string;
  let tree: string;
  let cleanup: () => void;

  beforeAll(() => {
    deb = ensureDeb();
    ({ dir: tree, cleanup } = tempDir("bh-deb-"));
    expect(run(["dpkg-deb", "-x", deb, tree]).code).toBe(0);
  }, 15 * MINUTE);
  afterAll(() => cleanup?.());

  test("its version is package.json's, and debian/changelog agrees", () => {
    expect(deb.endsWith(`blockhost_${DEB_VERSION}_amd64.deb`)).toBe(true);
    expect(changelogVersion(readFileSync(join(REPO, "debian/changelog"), "utf8"))).toBe(DEB_VERSION);
    const fields = run(["dpkg-deb", "-f", deb, "Package", "Version", "Architecture", "Conflicts"]).out;
    expect(fields).toContain(`Version: ${DEB_VERSION}`);
    expect(fields).toContain("Architecture: amd64");
    for (const original of [
      "blockhost-common",
      "blockhost-engine-evm",
      "blockhost-provisioner-proxmox",
      "blockhost-provisioner-libvirt",
    ]) {
      expect(fields).toContain(original);
    }
  });

  test("it ships the host binary, the baseline binary, units, sysusers, tmpfiles, man pages, completions, the example", () => {
    const files = run(["dpkg-deb", "-c", deb]).out;
    for (const path of [
      "./usr/bin/blockhost",
      "./usr/share/blockhost/vm/blockhost-baseline",
      "./lib/systemd/system/blockhost-agent.socket",
      "./lib/systemd/system/blockhost-agent.service",
      "./lib/systemd/system/blockhost-wizard.service",
      "./lib/systemd/system/blockhost-engine.service",
      "./lib/systemd/system/blockhost-serve.service",
      "./lib/systemd/system/blockhost-gc.service",
      "./lib/systemd/system/blockhost-gc.timer",
      "./usr/lib/sysusers.d/blockhost.conf",
      "./usr/lib/tmpfiles.d/blockhost.conf",
      "./usr/share/man/man1/blockhost.1.gz",
      "./usr/share/man/man1/blockhost-agent.1.gz",
      "./usr/share/bash-completion/completions/blockhost",
      "./usr/share/zsh/vendor-completions/_blockhost",
      "./usr/share/fish/vendor_completions.d/blockhost.fish",
      "./usr/share/doc/blockhost/examples/setup.example.yaml",
    ])
      expect(files).toContain(path);
    const version = run([join(tree, "usr/bin/blockhost"), "--version"]);
    expect(version.out.trim()).toBe(`blockhost ${DEB_VERSION}`);
  });

  test(
    "lintian reports no error and no warning (each override carries its reason)",
    () => {
      const r = run(["lintian", "--info", "--display-info", "--tag-display-limit", "0", deb]);
      const findings = r.out.split("\n").filter((l) => /^[EW]: /.test(l));
      expect(findings).toEqual([]);
      const unusedOverrides = r.out.split("\n").filter((l) => /unused-override|mismatched-override/.test(l));
      expect(unusedOverrides).toEqual([]);
      expect(r.code).toBe(0);
    },
    15 * MINUTE,
  );

  test("every service runs /usr/bin/blockhost from /, stops restarting on exit 78, and is sandboxed", () => {
    const unitDir = join(tree, "lib/systemd/system");
    const services = readdirSync(unitDir).filter((u) => u.endsWith(".service"));
    expect(services.sort()).toEqual(Object.keys(MAX_EXPOSURE).sort());
    for (const unit of services) {
      const text = readFileSync(join(unitDir, unit), "utf8");
      expect(text).toMatch(/^ExecStart=\/usr\/bin\/blockhost [a-z]/m);
      expect(text).toContain("WorkingDirectory=/\n");
      expect(text).toContain("RestartPreventExitStatus=78\n");
      const score = run(["systemd-analyze", "security", "--offline=true", "--no-pager", join(unitDir, unit)]);
      const exposure = Number(/Overall exposure level for \S+: ([\d.]+)/.exec(score.out)?.[1]);
      console.log(`${unit}: systemd-analyze security exposure ${exposure}`);
      expect(exposure).toBeLessThanOrEqual(MAX_EXPOSURE[unit]!);
      if (unit !== "blockhost-agent.service") {
        expect(text).toMatch(/^User=blockhost$/m);
        expect(text).toContain("ProtectSystem=strict\n");
        expect(text).toContain("ReadWritePaths=/var/lib/blockhost\n");
      }
    }
    const socket = readFileSync(join(unitDir, "blockhost-agent.socket"), "utf8");
    expect(socket).toContain("SocketMode=0660\n");
    expect(socket).toContain("SocketGroup=blockhost\n");
    // Setup is over when the agent's marker (root-only) or an older version's marker exists.
    const wizard = readFileSync(join(unitDir, "blockhost-wizard.service"), "utf8");
    expect(wizard).toContain("ConditionPathExists=!/var/lib/blockhost-agent/setup-complete\n");
    expect(wizard).toContain("ConditionPathExists=!/var/lib/blockhost/.setup-complete\n");
    // systemd opens StandardOutput=file:… under the unit's device filter: a closed policy must allow that device,
    // or the open fails (EPERM, 209/STDOUT) and the console never shows the code (seen on the ISO's first boot).
    for (const unit of readdirSync(unitDir).filter((f) => f.endsWith(".service"))) {
      const text = readFileSync(join(unitDir, unit), "utf8");
      const output = /^StandardOutput=file:(\/dev\/\S+)$/m.exec(text)?.[1];
      if (output && /^(DevicePolicy=(closed|strict)|PrivateDevices=yes)$/m.test(text))
        expect(`${unit}: ${text.match(/^DeviceAllow=.*$/gm)?.join(" ")}`).toContain(`DeviceAllow=${output} w`);
    }
  });

  test("man pages render without groff warnings and document each command's options", () => {
    const man = join(tree, "usr/share/man/man1");
    const pages = readdirSync(man);
    for (const page of pages) {
      const r = run(["sh", "-c", `zcat '${join(man, page)}' | groff -man -Tutf8 -ww -z`]);
      expect(`${page}: ${r.err.trim()}`).toBe(`${page}: `);
    }
    const agent = run(["sh", "-c", `zcat '${join(man, "blockhost-agent.1.gz")}' | groff -man -Tutf8 | col -b`]).out;
    expect(agent).toContain("--socket FILE");
    expect(agent).toContain("[--socket FILE]"); // the synopsis keeps the space between option and value
    expect(agent).toContain("blockhost agent call");
  });

  test("the shipped bash completion is `blockhost completion bash` and completes subcommands and options", async () => {
    const shipped = readFileSync(join(tree, "usr/share/bash-completion/completions/blockhost"), "utf8");
    expect((await runBlockhost(["completion", "bash"])).stdout).toBe(shipped);
    const complete = (line: string) => {
      const words = line.split(" ");
      const script = `${shipped}\nCOMP_WORDS=(${words.map((w) => `'${w}'`).join(" ")}); COMP_CWORD=${words.length - 1}; _blockhost; echo "\${COMPREPLY[*]}"`;
      return run(["bash", "-c", script]).out.trim().split(" ").sort();
    };
    expect(complete("blockhost ag")).toEqual(["agent"]);
    expect(complete("blockhost agent ")).toEqual(["--help", "--socket", "call"]);
    expect(complete("blockhost vm li")).toEqual(["list"]);
    expect(complete("blockhost vm list --")).toEqual(["--help", "--json", "--owner", "--status"]);
  });
});
