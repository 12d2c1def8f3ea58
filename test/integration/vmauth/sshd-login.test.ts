/** SSH login with a wallet signature through sshd and PAM. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readFileSync, statSync, symlinkSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";
import type { Hex } from "viem";
import { VM_AUTH_FILES, VM_BINARY_PATH } from "../../../src/vmauth/files/index.ts";
import { blockhostBinary, REPO, tempDir } from "../../helpers/binary.ts";
import { sshdUnavailable, sshLogin, startSshd, type TestSshd } from "../../helpers/sshd.ts";
import {
  loginMessage,
  MACHINE_ID,
  OWNER,
  parseChallenge,
  startSigningPage,
  STRANGER,
  writeVmRoot,
  type SigningPage,
  untilExpired,
} from "../../helpers/vmauth.ts";

// The whole in-VM login, for real: Debian's sshd with the shipped PAM stack and sshd drop-in,
// a local user whose GECOS holds the wallet, an SSH client answering keyboard-interactive, the
// signing page over TLS, and (when installed) Chromium with an injected EIP-1193 wallet.
const unavailable = sshdUnavailable();
if (unavailable) console.log(`skipping sshd login tests: ${unavailable}`);
const CHROMIUM = "/usr/bin/chromium";
/** Generous bound for one login (sshd, PAM, a browser): the tests never assert durations. */
const LOGIN_TIMEOUT = 90_000;

const t = tempDir("blockhost-sshd-login-");
const root = t.dir;
const user = `bhlogin${randomBytes(3).toString("hex")}`;
let sshd: TestSshd;
let page: SigningPage;
let userAdded = false;

/**
 * The binary customer VMs run is the baseline build: use it when the same build produced it
 * (it is written after dist/blockhost), else the native one.
 */
function vmBinary(): string {
  const native = blockhostBinary();
  const baseline = join(REPO, "dist/blockhost-baseline");
  return existsSync(baseline) && statSync(baseline).mtimeMs >= statSync(native).mtimeMs ? baseline : native;
}

const fileText = (path: string) => VM_AUTH_FILES.find((f) => f.path === path)!.content;
/** The shipped stack, pointed at the built binary under this test's root; verify also logs its reason line to a file. */
function testPamStack(): string {
  const bin = `/usr/bin/env BLOCKHOST_ROOT=${root} ${vmBinary()}`;
  return fileText("/etc/pam.d/sshd")
    .replaceAll(VM_BINARY_PATH, bin)
    .replace(/quiet expose_authtok /, `quiet expose_authtok log=${join(root, "verify.log")} `);
}
const lastVerifyLine = () =>
  existsSync(join(root, "verify.log"))
    ? (readFileSync(join(root, "verify.log"), "utf8")
        .trim()
        .split("\n")
        .filter((l) => l.includes("event=verify"))
        .at(-1) ?? "")
    : "";
const configure = (o: { ttl?: number } = {}) =>
  writeVmRoot(root, { signingHost: "127.0.0.1", signingPort: page.port, grace: 5, ...o });
const sign = (message: string, who = OWNER) => who.signMessage({ message });
const caTls = () => ({ ca: readFileSync(join(root, "etc/libpam-web3/tls/cert.pem"), "utf8") });

describe.skipIf(Boolean(unavailable))("SSH login with a wallet signature (real sshd + PAM)", () => {
  beforeAll(async () => {
    const add = Bun.spawnSync(
      ["/usr/sbin/useradd", "-M", "-s", "/bin/sh", "-c", `wallet=${OWNER.address},nft=0`, user],
      { stderr: "pipe" },
    );
    if (add.exitCode !== 0) throw new Error(`useradd: ${add.stderr}`);
    userAdded = true;
    writeVmRoot(root, { signingHost: "127.0.0.1" });
    symlinkSync("/etc/passwd", join(root, "etc/passwd"));
    page = await startSigningPage(vmBinary(), root);
    console.log(`sshd login tests: the VM side runs ${vmBinary()}`);
    configure();
    sshd = await startSshd(
      root,
      testPamStack(),
      `${fileText("/etc/ssh/sshd_config.d/web3-only.conf")}\nAllowUsers ${user}\n`,
    );
  }, LOGIN_TIMEOUT);
  afterAll(async () => {
    await sshd?.stop();
    await page?.stop();
    if (userAdded) Bun.spawnSync(["/usr/sbin/userdel", user]);
    t.cleanup();
  });

  test(
    "pasting the signature of the code shown logs in",
    async () => {
      const r = await sshLogin(sshd.port, user, async (prompt) => {
        const c = parseChallenge(prompt);
        return sign(loginMessage(c.machine, c.code, c.expires));
      });
      expect(r.prompt).toContain(`Machine: ${MACHINE_ID}`);
      expect(r.prompt).toMatch(new RegExp(`Sign at: https://127\\.0\\.0\\.1:${page.port}/\\?session=[0-9a-f]{32}`));
      if (r.error)
        console.log(
          sshd.log(),
          existsSync(join(root, "verify.log")) ? readFileSync(join(root, "verify.log"), "utf8") : "no verify.log",
        );
      expect(r.error).toBeUndefined();
      expect(r.ok).toBe(true);
      expect(r.output).toBe(user);
      expect(lastVerifyLine()).toContain("result=success");
    },
    LOGIN_TIMEOUT,
  );

  test(
    "signing through the page's callback, then Enter, logs in (and a second callback is refused)",
    async () => {
      const r = await sshLogin(sshd.port, user, async (prompt) => {
        const c = parseChallenge(prompt);
        const sig = await sign(loginMessage(c.machine, c.code, c.expires));
        const post = (body: string) =>
          fetch(`https://127.0.0.1:${page.port}/auth/callback/${c.session}`, { method: "POST", body, tls: caTls() });
        expect((await post(sig)).status).toBe(200);
        expect((await post(sig)).status).toBe(409);
        return "";
      });
      expect(r.ok).toBe(true);
      expect(r.output).toBe(user);
    },
    LOGIN_TIMEOUT,
  );

  describe.skipIf(!existsSync(CHROMIUM))("in a browser", () => {
    let browser: Browser;
    beforeAll(async () => {
      browser = await chromium.launch({
        executablePath: CHROMIUM,
        headless: true,
        args: ["--no-sandbox", "--disable-dev-shm-usage"],
        timeout: 60_000,
      });
    }, LOGIN_TIMEOUT);
    afterAll(async () => {
      await browser?.close();
    });

    /** A tab whose page sees `window.ethereum`: an EIP-1193 wallet backed by the owner's key. */
    async function walletTab() {
      const context = await browser.newContext({ ignoreHTTPSErrors: true });
      const tab = await context.newPage();
      const signed: string[] = [];
      await tab.exposeFunction("__walletSign", async (hex: string, account: string) => {
        signed.push(account);
        return OWNER.signMessage({ message: { raw: hex as Hex } });
      });
      await tab.addInitScript((address: string) => {
        const w = window as unknown as {
          ethereum: unknown;
          __walletSign: (hex: string, account: string) => Promise<string>;
        };
        w.ethereum = {
          request: async ({ method, params }: { method: string; params?: string[] }) => {
            if (method === "eth_requestAccounts" || method === "eth_accounts") return [address];
            if (method === "personal_sign") return w.__walletSign(params![0]!, params![1]!);
            throw Object.assign(new Error(`unsupported ${method}`), { code: 4200 });
          },
        };
      }, OWNER.address);
      return { tab, signed, close: () => context.close() };
    }

    /** What the customer does on the page: check the prefilled code, connect, sign. */
    async function signOnPage(tab: Page, c: ReturnType<typeof parseChallenge>) {
      await tab.goto(c.url);
      await tab.waitForFunction(() => (document.getElementById("code") as HTMLInputElement).value !== "", null, {
        timeout: 20_000,
      });
      expect(await tab.inputValue("#code")).toBe(c.code);
      expect(await tab.inputValue("#machine")).toBe(c.machine);
      await tab.click("#connect");
      await tab.click("#sign");
    }

    test(
      "Chromium with an EIP-1193 wallet signs on the page; Enter at the prompt logs in",
      async () => {
        const { tab, signed, close } = await walletTab();
        try {
          const r = await sshLogin(sshd.port, user, async (prompt) => {
            await signOnPage(tab, parseChallenge(prompt));
            await tab.waitForSelector("#status.ok", { timeout: 20_000 });
            expect(await tab.textContent("#status")).toContain("press Enter");
            return "";
          });
          expect(signed).toEqual([OWNER.address]);
          expect(r.ok).toBe(true);
          expect(r.output).toBe(user);
        } finally {
          await close();
        }
      },
      LOGIN_TIMEOUT,
    );

    test(
      "when the callback fails, the page shows the signature and pasting it logs in",
      async () => {
        const { tab, close } = await walletTab();
        try {
          const r = await sshLogin(sshd.port, user, async (prompt) => {
            const c = parseChallenge(prompt);
            // Someone else got a (useless) signature in first: the page's own callback answers 409.
            const squatted = await fetch(`https://127.0.0.1:${page.port}/auth/callback/${c.session}`, {
              method: "POST",
              body: `0x${"ab".repeat(65)}`,
              tls: caTls(),
            });
            expect(squatted.status).toBe(200);
            await signOnPage(tab, c);
            await tab.waitForSelector("#manual:not([hidden])", { timeout: 20_000 });
            expect(await tab.textContent("#status")).toContain("paste it at the SSH prompt");
            return tab.inputValue("#signature");
          });
          expect(r.ok).toBe(true);
          expect(r.output).toBe(user);
        } finally {
          await close();
        }
      },
      LOGIN_TIMEOUT,
    );
  });

  const refused = async (answer: (c: ReturnType<typeof parseChallenge>) => Promise<string>, reason: string) => {
    const r = await sshLogin(sshd.port, user, (prompt) => answer(parseChallenge(prompt)));
    expect(r.prompt).toContain("Code:");
    expect(r.ok).toBe(false);
    expect(r.output).toBe("");
    expect(lastVerifyLine()).toContain(`reason=${reason}`);
  };

  test(
    "refuses a signature from another wallet",
    () => refused((c) => sign(loginMessage(c.machine, c.code, c.expires), STRANGER), "wrong-wallet"),
    LOGIN_TIMEOUT,
  );
  test(
    "refuses a signature for another machine id",
    () => refused((c) => sign(loginMessage("vm-someone-else", c.code, c.expires)), "wrong-wallet"),
    LOGIN_TIMEOUT,
  );
  test("refuses garbage at the prompt", () => refused(async () => "let me in", "malformed-signature"), LOGIN_TIMEOUT);
  test("refuses Enter when nothing was signed", () => refused(async () => "", "no-signature"), LOGIN_TIMEOUT);

  test(
    "refuses a replayed signature",
    async () => {
      let first = "";
      const ok = await sshLogin(sshd.port, user, async (prompt) => {
        const c = parseChallenge(prompt);
        first = await sign(loginMessage(c.machine, c.code, c.expires));
        return first;
      });
      expect(ok.ok).toBe(true);
      await refused(async () => first, "wrong-wallet");
    },
    LOGIN_TIMEOUT,
  );

  test(
    "refuses an expired code",
    async () => {
      configure({ ttl: 1 });
      try {
        await refused(async (c) => {
          const sig = await sign(loginMessage(c.machine, c.code, c.expires));
          await untilExpired(c.expires);
          return sig;
        }, "expired");
      } finally {
        configure();
      }
    },
    LOGIN_TIMEOUT,
  );
});
