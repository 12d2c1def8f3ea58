// Two writers at once (the fund manager creating `hot`, operators adding entries): every entry survives; a lost `hot` entry is recovered.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { privateKeyToAccount } from "viem/accounts";
import { startAgent, type RunningAgent } from "../../helpers/agent.ts";
import { runBlockhost } from "../../helpers/binary.ts";
import { ensureServiceAccount } from "../../helpers/service-account.ts";

// Several compiled binaries start at once on a shared 2-core machine: generous, never a timing assertion.
setDefaultTimeout(90_000);

const address = (i: number) => privateKeyToAccount(`0x${(i + 1).toString(16).padStart(64, "0")}`).address;

describe("addressbook writes are per entry, serialised in the agent", () => {
  let agent: RunningAgent;
  const book = () =>
    JSON.parse(readFileSync(join(agent.root, "etc/blockhost/addressbook.json"), "utf8")) as Record<
      string,
      { address: string; keyfile?: string }
    >;
  beforeAll(async () => {
    ensureServiceAccount();
    agent = await startAgent();
  });
  afterAll(async () => {
    await agent?.stop();
  });

  test("generate-wallet hot racing 8 CLI adds and 12 direct adds: all 21 entries are there", async () => {
    const cli = Array.from({ length: 8 }, (_, i) =>
      runBlockhost(["addressbook", "add", `op-${i}`, address(i)], { root: agent.root }),
    );
    const direct = Array.from({ length: 12 }, (_, i) =>
      agent.client.call("addressbook-add", { name: `peer-${i}`, address: address(100 + i) }),
    );
    const hot = agent.client.call("generate-wallet", { name: "hot" });
    const results = await Promise.all([
      ...cli,
      ...direct.map((p) => p.then(() => ({ code: 0, stderr: "" }))),
      hot.then(() => ({ code: 0, stderr: "" })),
    ]);
    for (const r of results) expect(r).toMatchObject({ code: 0 });
    const b = book();
    expect(Object.keys(b).sort()).toEqual(
      [
        "hot",
        ...Array.from({ length: 8 }, (_, i) => `op-${i}`),
        ...Array.from({ length: 12 }, (_, i) => `peer-${i}`),
      ].sort(),
    );
    for (let i = 0; i < 8; i++) expect(b[`op-${i}`]!.address).toBe(address(i));
    expect(b.hot!.keyfile).toBe(join(agent.root, "etc/blockhost/hot.key"));
  });

  test("update and remove touch one entry; remove keeps the key file", async () => {
    await agent.client.call("addressbook-update", { name: "op-1", address: address(50) });
    await agent.client.call("addressbook-remove", { name: "op-2" });
    const b = book();
    expect(b["op-1"]!.address).toBe(address(50));
    expect(b["op-2"]).toBeUndefined();
    expect(Object.keys(b)).toHaveLength(20);
    await expect(agent.client.call("addressbook-add", { name: "op-1", address: address(1) })).rejects.toMatchObject({
      code: "E_CONFLICT",
    });
    await expect(agent.client.call("addressbook-remove", { name: "nobody" })).rejects.toMatchObject({
      code: "E_NOT_FOUND",
    });
  });

  test("a hot key whose entry was lost is re-registered by generate-wallet instead of blocking it forever", async () => {
    const hot = book().hot!;
    await agent.client.call("addressbook-remove", { name: "hot" });
    expect(existsSync(hot.keyfile!)).toBe(true);
    expect(await agent.client.call("generate-wallet", { name: "hot" })).toMatchObject({
      address: hot.address,
      keyfile: hot.keyfile,
    });
    expect(book().hot).toEqual(hot);
    await expect(agent.client.call("generate-wallet", { name: "hot" })).rejects.toMatchObject({ code: "E_CONFLICT" });
  });
});
