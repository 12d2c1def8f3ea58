// The fund manager: the fund cycle and the gas check, each planned from chain balances and executed as recorded transactions.
import type { Database } from "bun:sqlite";
import { encodeFunctionData, erc20Abi, getAddress, type Hex } from "viem";
import type { PrivateKeyAccount } from "viem/accounts";
import { AgentClient } from "../../agent/client.ts";
import type { ChainAccess } from "../../chain/client.ts";
import { loadDeployer } from "../../chain/context.ts";
import { blockhostSubscriptionsAbi as subsAbi } from "../../chain/contracts/generated/BlockhostSubscriptions.ts";
import { onChain } from "../../chain/errors.ts";
import { loadKeyFile } from "../../crypto/keyfile.ts";
import { loadAddressbook, type Addressbook } from "../../core/config/addressbook.ts";
import { loadRevenueShare, type FundManagerConfig } from "../../core/config/fund-manager.ts";
import type { Web3Config } from "../../core/config/index.ts";
import { BlockhostError } from "../../core/errors.ts";
import { logEvent } from "../../core/log.ts";
import { paths } from "../../core/paths.ts";
import { erc20Balance, ethBalance, paymentTokenSnapshots, primaryStablecoin } from "./chain-reads.ts";
import { approveData, GAS_SWAP_DEADLINE_SECONDS, planGasSwap, swapData, uniswapFor } from "./gas.ts";
import { sendRecorded, settlePending } from "./ledger-tx.ts";
import { hotGasStep, planCycle, type FundSnapshot, type Step } from "./plan.ts";

export interface StepResult extends Step {
  tx?: Hex;
}
export interface FundReport {
  cycle: string;
  dryRun: boolean;
  steps: StepResult[];
  notes: string[];
}

export interface FundManagerDeps {
  db: Database;
  access: ChainAccess;
  web3: Web3Config;
  config: FundManagerConfig;
  subscriptions: Hex;
  agent?: AgentClient;
}

const newCycleId = (kind: string) => `${kind}-${new Date().toISOString()}-${crypto.randomUUID().slice(0, 8)}`;

export class FundManager {
  constructor(private readonly d: FundManagerDeps) {}

  /** The addressbook with a `hot` wallet, created through the agent when missing (not in a dry run). */
  private async ensureHot(dryRun: boolean, notes: string[]): Promise<Addressbook> {
    const book = loadAddressbook();
    if (Object.keys(book).length === 0)
      throw new BlockhostError(
        "E_CONFIG_MISSING",
        `${paths.addressbook}: the addressbook is empty; the fund manager needs admin and server`,
      );
    if (!book.admin)
      throw new BlockhostError("E_CONFIG_MISSING", `${paths.addressbook}: no admin entry (where revenue goes)`);
    if (book.hot) return book;
    if (dryRun) {
      notes.push("hot wallet: none yet; a real run creates it (agent generate-wallet hot)");
      return book;
    }
    const { address } = await (this.d.agent ?? new AgentClient()).call("generate-wallet", { name: "hot" });
    logEvent("funds.hot_wallet_created", { address });
    const after = loadAddressbook();
    if (!after.hot)
      throw new BlockhostError("E_STATE", "generate-wallet hot succeeded but the addressbook has no hot entry");
    return after;
  }

  private signer(book: Addressbook, role: "server" | "hot"): PrivateKeyAccount {
    if (role === "server")
      return book.server?.keyfile ? loadKeyFile(book.server.keyfile, "server key file") : loadDeployer(this.d.web3);
    if (!book.hot?.keyfile) throw new BlockhostError("E_CONFIG_MISSING", `${paths.addressbook}: hot has no key file`);
    return loadKeyFile(book.hot.keyfile, "hot key file");
  }

  private async snapshot(book: Addressbook): Promise<FundSnapshot> {
    const a = this.d.access;
    const server = book.server ? getAddress(book.server.address) : loadDeployer(this.d.web3).address;
    // Before hot exists (dry run), plan as if an empty wallet at the zero address received the funds.
    const hot = book.hot ? getAddress(book.hot.address) : (`0x${"0".repeat(40)}` as Hex);
    const stable = await primaryStablecoin(a, this.d.subscriptions);
    const roles = Object.fromEntries(Object.entries(book).map(([k, v]) => [k, getAddress(v.address)]));
    return {
      tokens: await paymentTokenSnapshots(a, this.d.subscriptions, hot),
      stable,
      serverStable: stable ? await erc20Balance(a, stable, server) : 0n,
      serverEth: await ethBalance(a, server),
      hotEth: book.hot ? await ethBalance(a, hot) : 0n,
      addresses: { server, hot, admin: getAddress(book.admin!.address) },
      roles,
    };
  }

  private async execute(book: Addressbook, cycle: string, step: Step): Promise<Hex> {
    const from = this.signer(book, step.from);
    const meta = { cycle, step: step.kind, token: step.token, to: step.toAddress, amount: step.amount };
    const db = this.d.db,
      a = this.d.access;
    if (step.kind === "withdraw") {
      const data = encodeFunctionData({
        abi: subsAbi,
        functionName: "withdrawFunds",
        args: [step.token as Hex, step.toAddress],
      });
      return await sendRecorded(db, a, from, { to: this.d.subscriptions, data }, meta);
    }
    if (step.token === "eth") return await sendRecorded(db, a, from, { to: step.toAddress, value: step.amount }, meta);
    const data = encodeFunctionData({ abi: erc20Abi, functionName: "transfer", args: [step.toAddress, step.amount] });
    return await sendRecorded(db, a, from, { to: step.token, data }, meta);
  }

  /**
   * One fund cycle. Transfers a crashed run left in flight are settled first, so the plan is made
   * from balances that already include them: a re-run never sends anything twice. A failing step
   * stops the cycle (the caller retries later); steps done stay done.
   */
  async runCycle(opts: { dryRun?: boolean; onStep?: (s: StepResult) => void } = {}): Promise<FundReport> {
    const dryRun = opts.dryRun ?? false;
    const notes: string[] = [];
    if (!dryRun) {
      const settled = await settlePending(this.d.db, this.d.access);
      if (settled.length) notes.push(`settled ${settled.length} transfer(s) left by an interrupted run`);
    }
    const book = await this.ensureHot(dryRun, notes);
    const plan = planCycle(await this.snapshot(book), this.d.config, loadRevenueShare());
    const cycle = newCycleId("cycle");
    const report: FundReport = { cycle, dryRun, steps: [], notes: [...notes, ...plan.notes] };
    for (const step of plan.steps) {
      const done: StepResult = dryRun ? step : { ...step, tx: await this.execute(book, cycle, step) };
      report.steps.push(done);
      opts.onStep?.(done);
    }
    logEvent("funds.cycle_done", { cycle, dry_run: dryRun, steps: report.steps.length });
    return report;
  }

  /** The gas check: top up hot's gas, then swap stablecoin for ETH when server's ETH runs low. */
  async runGasCheck(opts: { dryRun?: boolean; onStep?: (s: StepResult) => void } = {}): Promise<FundReport> {
    const dryRun = opts.dryRun ?? false;
    const cycle = newCycleId("gas");
    const report: FundReport = { cycle, dryRun, steps: [], notes: [] };
    const push = (s: StepResult) => {
      report.steps.push(s);
      opts.onStep?.(s);
    };
    if (!dryRun) await settlePending(this.d.db, this.d.access);
    const book = loadAddressbook();
    const serverAccount = this.signer(book, "server");
    const server = serverAccount.address;
    const a = this.d.access;
    if (book.hot) {
      const gas = hotGasStep(
        {
          serverEth: await ethBalance(a, server),
          hotEth: await ethBalance(a, getAddress(book.hot.address)),
          addresses: { server, hot: getAddress(book.hot.address), admin: server },
        },
        this.d.config,
        report.notes,
      );
      if (gas) push(dryRun ? gas : { ...gas, tx: await this.execute(book, cycle, gas) });
    }
    const u = uniswapFor(this.d.web3);
    if (!u) {
      report.notes.push(
        `gas swap: no Uniswap V2 pair for chain ${this.d.web3.blockchain.chain_id} (set uniswap_v2 in web3-defaults.yaml)`,
      );
      return report;
    }
    const decimals = Number(
      await onChain("USDC decimals", () =>
        a.publicClient.readContract({ address: u.usdc, abi: erc20Abi, functionName: "decimals" }),
      ),
    );
    const swap = await planGasSwap(
      a,
      u,
      this.d.config,
      { eth: await ethBalance(a, server), usdc: await erc20Balance(a, u.usdc, server) },
      decimals,
    );
    if (typeof swap === "string") {
      report.notes.push(`gas swap: ${swap}`);
      return report;
    }
    const step: Step = {
      kind: "gas_swap",
      token: u.usdc,
      symbol: "USDC→ETH",
      decimals,
      from: "server",
      to: "server",
      toAddress: server,
      amount: swap.amountIn,
    };
    if (dryRun) {
      push(step);
      report.notes.push(`gas swap: ETH at ${swap.priceCents} cents; at least ${swap.minOut} wei out`);
      return report;
    }
    const allowance = await onChain("allowance", () =>
      a.publicClient.readContract({
        address: u.usdc,
        abi: erc20Abi,
        functionName: "allowance",
        args: [server, u.router],
      }),
    );
    // Approve exactly the amount (the original approved MaxUint256).
    if (allowance < swap.amountIn)
      await sendRecorded(
        this.d.db,
        a,
        serverAccount,
        { to: u.usdc, data: approveData(u.router, swap.amountIn) },
        { cycle, step: "swap_approve", token: u.usdc, to: u.router, amount: swap.amountIn },
      );
    // The deadline follows chain time, not this host's clock.
    const deadline =
      (await onChain("latest block", () => a.publicClient.getBlock())).timestamp + GAS_SWAP_DEADLINE_SECONDS;
    const tx = await sendRecorded(
      this.d.db,
      a,
      serverAccount,
      { to: u.router, data: swapData(u, swap, server, deadline) },
      { cycle, step: "gas_swap", token: u.usdc, to: u.router, amount: swap.amountIn },
    );
    push({ ...step, tx });
    return report;
  }
}
