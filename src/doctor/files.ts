/** Doctor checks on /etc/blockhost: config files parse, owners and modes as the seed's table, keys match addresses. */
import { existsSync, lstatSync, readFileSync } from "node:fs";
import { CONFIG_FILES } from "../agent/actions/config.ts";
import { deployerKeyFile } from "../chain/context.ts";
import { readKeyFile } from "../crypto/keyfile.ts";
import { loadAddressbook } from "../core/config/addressbook.ts";
import { loadBlockhostConfig, loadDbConfig, loadWeb3Config } from "../core/config/index.ts";
import type { Web3Config } from "../core/config/index.ts";
import { oneLine } from "../core/errors.ts";
import { blockhostGid, blockhostUid } from "../core/fs.ts";
import { paths } from "../core/paths.ts";
import { addressOfPrivateKey, parsePublicKey, publicKeyOf } from "../crypto/keys.ts";
import { type CheckResult, fail, ok, skip } from "./check.ts";

const octal = (mode: number) => `0${(mode & 0o777).toString(8)}`;
const FINALIZE = "run the setup wizard, or blockhost finalize --config FILE";

/** The three config files every host has load through their schemas; any other one present passes its check. */
export function configChecks(): { results: CheckResult[]; web3: Web3Config | null } {
  const results: CheckResult[] = [];
  let web3: Web3Config | null = null;
  const files: Array<[string, () => unknown]> = [
    [paths.blockhostConfig, () => loadBlockhostConfig()],
    [paths.dbConfig, () => loadDbConfig()],
    [paths.web3Config, () => (web3 = loadWeb3Config())],
  ];
  for (const [file, load] of files) {
    const name = `config ${file}`;
    if (!existsSync(file)) {
      results.push(fail(name, "missing", FINALIZE));
      continue;
    }
    try {
      load();
      results.push(ok(name, "parses"));
    } catch (e) {
      results.push(fail(name, oneLine(e), `correct the named key in ${file} (blockhost finalize rewrites it)`));
    }
  }
  // Every other file finalize writes, checked as the agent checks it before writing it.
  const loaded = new Set(files.map(([file]) => file));
  for (const [name, spec] of Object.entries(CONFIG_FILES)) {
    const file = paths.config(name);
    if (loaded.has(file) || !existsSync(file)) continue;
    let problem: string | null = null;
    try {
      if (!spec.check(readFileSync(file, "utf8"), file)) problem = `expected ${spec.expected}`;
    } catch (e) {
      problem = oneLine(e);
    }
    results.push(
      problem === null
        ? ok(`config ${file}`, "parses")
        : fail(`config ${file}`, problem, `correct ${file} (it must hold ${spec.expected})`),
    );
  }
  return { results, web3 };
}

function modeCheck(file: string, mode: number, owner: { uid: number; gid: number | undefined; what: string }) {
  const name = `mode ${file}`;
  const st = lstatSync(file);
  const want = `${owner.what} ${octal(mode)}`;
  const got = `uid ${st.uid} gid ${st.gid} ${octal(st.mode)}`;
  if (st.isSymbolicLink()) return fail(name, "is a symbolic link", `replace it with a regular file (${want})`);
  const bad: string[] = [];
  if ((st.mode & 0o777) !== mode) bad.push(`mode ${octal(st.mode)}, expected ${octal(mode)}`);
  if (st.uid !== owner.uid) bad.push(`owner uid ${st.uid}, expected ${owner.uid}`);
  if (owner.gid !== undefined && st.gid !== owner.gid) bad.push(`group gid ${st.gid}, expected ${owner.gid}`);
  if (bad.length === 0) return ok(name, want);
  return fail(
    name,
    `${bad.join("; ")} (is ${got})`,
    `chown ${owner.what} ${file} && chmod ${octal(mode).slice(1)} ${file}`,
  );
}

/** Owners and modes as the seed's table says: /etc/blockhost root:blockhost 0750, each file its fixed mode. */
export function modeChecks(): CheckResult[] {
  const gid = blockhostGid();
  const uid = blockhostUid();
  const results: CheckResult[] = [];
  if (gid === undefined)
    results.push(
      fail("group blockhost", "no blockhost group on this host", "install the package (it creates the user and group)"),
    );
  if (!existsSync(paths.configDir)) return [...results, fail(`mode ${paths.configDir}`, "missing", FINALIZE)];
  results.push(modeCheck(paths.configDir, 0o750, { uid: 0, gid, what: "root:blockhost" }));
  if (existsSync(paths.stateDir))
    results.push(modeCheck(paths.stateDir, 0o750, { uid: uid ?? 0, gid, what: "blockhost:blockhost" }));
  for (const [file, spec] of Object.entries(CONFIG_FILES)) {
    const full = paths.config(file);
    if (existsSync(full)) results.push(modeCheck(full, spec.mode, { uid: 0, gid, what: "root:blockhost" }));
  }
  return results;
}

function keyMatches(name: string, keyFile: string, expected: string | undefined, where: string): CheckResult {
  if (!existsSync(keyFile)) return fail(name, `${keyFile} is missing`, FINALIZE);
  let address: string;
  try {
    address = addressOfPrivateKey(readKeyFile(keyFile));
  } catch (e) {
    return fail(name, oneLine(e), `${keyFile} must hold one 64-hex-digit private key`);
  }
  if (expected === undefined) return ok(name, `${keyFile} → ${address}`);
  return address.toLowerCase() === expected.toLowerCase()
    ? ok(name, `${keyFile} → ${address}, as ${where} says`)
    : fail(
        name,
        `${keyFile} holds the key of ${address}, but ${where} says ${expected}`,
        `put the matching key in ${keyFile}, or correct ${where}`,
      );
}

/** Every key file against the address recorded for it (server key ↔ server.pubkey, addressbook keyfiles). */
export function keyChecks(web3: Web3Config | null): CheckResult[] {
  const results: CheckResult[] = [];
  if (existsSync(paths.serverKey) && existsSync(paths.serverPubkey)) {
    try {
      const pub = Buffer.from(publicKeyOf(readKeyFile(paths.serverKey))).toString("hex");
      const recorded = Buffer.from(parsePublicKey(readFileSync(paths.serverPubkey, "utf8").trim())).toString("hex");
      results.push(
        pub === recorded
          ? ok("key server.key", `matches ${paths.serverPubkey}`)
          : fail(
              "key server.key",
              `does not match ${paths.serverPubkey}`,
              "restore the pair from backup (a new pair makes existing payloads undecryptable)",
            ),
      );
    } catch (e) {
      results.push(fail("key server.key", oneLine(e), "restore server.key and server.pubkey from backup"));
    }
  } else results.push(skip("key server.key", "server.key or server.pubkey not present"));
  let book: ReturnType<typeof loadAddressbook> = {};
  try {
    book = existsSync(paths.addressbook) ? loadAddressbook() : {};
  } catch {
    // reported by configChecks
  }
  if (web3)
    results.push(keyMatches("key deployer", deployerKeyFile(web3), book.server?.address, "the addressbook's server"));
  for (const [role, entry] of Object.entries(book)) {
    if (!entry.keyfile || (role === "server" && web3 && entry.keyfile === deployerKeyFile(web3))) continue;
    results.push(keyMatches(`key ${role}`, entry.keyfile, entry.address, `the addressbook's ${role}`));
  }
  return results;
}
