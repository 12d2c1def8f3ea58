/** The chain RPC must be encrypted outside dev: https/wss, or plain text only to loopback or on a dev chain. */
import { describe, expect, test } from "bun:test";
import { parseConfigText } from "../../../src/core/config/load.ts";
import { rpcUrlAllowed } from "../../../src/core/config/rpc-url.ts";
import { web3ConfigSchema } from "../../../src/core/config/schemas.ts";
import { BlockhostError, exitCodeFor } from "../../../src/core/errors.ts";
import { chainSchema } from "../../../src/setup/schema.ts";

const FILE = "/etc/blockhost/web3-defaults.yaml";
const web3 = (lines: string) => () => parseConfigText(FILE, `blockchain:\n${lines}`, web3ConfigSchema);

describe("rpc_url", () => {
  test("https and wss anywhere; http and ws only to loopback or on chain 31337/1337", () => {
    expect(rpcUrlAllowed("https://mainnet.example/v3/KEY", 1)).toBe(true);
    expect(rpcUrlAllowed("wss://mainnet.example/ws", 1)).toBe(true);
    expect(rpcUrlAllowed("http://127.0.0.1:8545", 1)).toBe(true);
    expect(rpcUrlAllowed("http://[::1]:8545", 8453)).toBe(true);
    expect(rpcUrlAllowed("http://localhost:8545", 11155111)).toBe(true);
    expect(rpcUrlAllowed("http://10.0.0.5:8545", 31337)).toBe(true);
    expect(rpcUrlAllowed("http://rpc.example:8545", 1)).toBe(false);
    expect(rpcUrlAllowed("ws://10.0.0.5:8546", 11155111)).toBe(false);
    expect(rpcUrlAllowed("http://127.0.0.1.evil.example/", 1)).toBe(false);
  });

  test("a plain-text rpc_url off a dev chain is a config error naming the file and key (exit 78)", () => {
    let error: unknown;
    try {
      web3("  chain_id: 1\n  rpc_url: http://rpc.example/v3/KEY\n")();
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(BlockhostError);
    expect((error as BlockhostError).code).toBe("E_CONFIG_INVALID");
    expect((error as BlockhostError).message).toStartWith(
      `${FILE}: blockchain.rpc_url: expected an https:// or wss://`,
    );
    expect(exitCodeFor(error)).toBe(78);
    expect(web3("  chain_id: 1\n  rpc_url: https://a.example\n  rpc_urls: ['ws://b.example']\n")).toThrow(
      "blockchain.rpc_urls[0]",
    );
    expect(web3("  chain_id: 1\n  rpc_url: https://rpc.example/v3/KEY\n")().blockchain.rpc_url).toBe(
      "https://rpc.example/v3/KEY",
    );
  });

  test("public_rpc_url is https without credentials; the setup file applies the same rule", () => {
    expect(web3("  chain_id: 1\n  rpc_url: https://a.example\n  public_rpc_url: http://b.example\n")).toThrow(
      "blockchain.public_rpc_url",
    );
    expect(web3("  chain_id: 1\n  rpc_url: https://a.example\n  public_rpc_url: https://u:p@b.example\n")).toThrow(
      "blockchain.public_rpc_url",
    );
    const setup = (rpc_url: string) => () =>
      chainSchema.parse({ chain_id: 8453, rpc_url, generate_deployer: true, contracts: "deploy" }, "chain");
    expect(setup("http://rpc.example")).toThrow("chain.rpc_url");
    expect(setup("https://rpc.example")().rpc_url).toBe("https://rpc.example");
  });
});
