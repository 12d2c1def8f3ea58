// `blockhost funds status|run [--dry-run]`: the fund manager by hand, printing each step.
import { defineCommand } from "citty";
import { formatUnits } from "viem";
import { loadChainContext, contractAddress } from "../../chain/context.ts";
import { loadBlockhostConfig } from "../../core/config/index.ts";
import { parseFundManager } from "../../core/config/fund-manager.ts";
import { BlockhostError, oneLine } from "../../core/errors.ts";
import { printJson } from "../../core/output.ts";
import { openDatabase, openExistingDatabase } from "../../core/state/db.ts";
import { readTimer, recentTransfers } from "../../core/state/funds.ts";
import { underFundLease } from "./duty.ts";
import { FundManager, type FundReport, type StepResult } from "./manager.ts";

const say = (line: string) => process.stdout.write(`${line}\n`);
const when = (ms: number) => (ms > 0 ? new Date(ms).toISOString() : "never");

export function stepLine(s: StepResult): string {
  return `${s.kind.padEnd(13)} ${formatUnits(s.amount, s.decimals)} ${s.symbol} ${s.from} → ${s.to} (${s.toAddress})${s.tx ? ` ${s.tx}` : ""}`;
}

function printReport(title: string, r: FundReport, printedSteps: boolean): void {
  if (!printedSteps) for (const s of r.steps) say(stepLine(s));
  if (r.steps.length === 0) say(`${title}: nothing to move`);
  for (const n of r.notes) say(`note: ${n}`);
}

/** `status` only reads (a missing database is "not set up yet"); `run` records its transfers. */
function open(readOnly: boolean) {
  const blockhost = loadBlockhostConfig();
  const { web3, access } = loadChainContext();
  const db = readOnly ? openExistingDatabase() : openDatabase();
  const manager = new FundManager({
    db,
    access,
    web3,
    config: parseFundManager(blockhost.fund_manager),
    subscriptions: contractAddress(web3, "subscriptions"),
  });
  return { db, manager };
}

const run = defineCommand({
  meta: {
    name: "run",
    description: "Move revenue and top up gas now, as the engine does on its schedule; prints each transfer",
    examples: ["blockhost funds run --dry-run", "blockhost funds run"],
  },
  args: { "dry-run": { type: "boolean", description: "Only print what would be moved; send nothing" } },
  async run({ args }) {
    const dryRun = args["dry-run"] === true;
    const { db, manager } = open(false);
    try {
      const live = !dryRun;
      const work = async () => {
        say(dryRun ? "fund cycle (dry run):" : "fund cycle:");
        printReport(
          "fund cycle",
          await manager.runCycle({ dryRun, onStep: live ? (s) => say(stepLine(s)) : undefined }),
          live,
        );
        say(dryRun ? "gas check (dry run):" : "gas check:");
        printReport(
          "gas check",
          await manager.runGasCheck({ dryRun, onStep: live ? (s) => say(stepLine(s)) : undefined }),
          live,
        );
      };
      // A dry run sends nothing, so it needs no lease; a real run must not overlap the engine's.
      if (dryRun) await work();
      else if (!(await underFundLease(db, work)))
        throw new BlockhostError(
          "E_CONFLICT",
          "another fund cycle is running (the engine's?); try again when it is done",
        );
    } finally {
      db.close();
    }
  },
});

const status = defineCommand({
  meta: {
    name: "status",
    description: "Show when revenue is next moved, the recent transfers, and what would be moved now",
    examples: ["blockhost funds status"],
  },
  args: {
    json: {
      type: "boolean",
      description:
        "print JSON: {last_fund_cycle, fund_cycle_retry_at, last_gas_check, recent_transfers, plan, plan_error}",
    },
  },
  async run({ args }) {
    const { db, manager } = open(true);
    try {
      const cycle = readTimer(db, "fund_cycle"),
        gas = readTimer(db, "gas_check");
      if (args.json) {
        let plan: FundReport | null = null;
        let planError: string | null = null;
        try {
          plan = await manager.runCycle({ dryRun: true });
        } catch (e) {
          planError = oneLine(e);
          process.exitCode = 1;
        }
        return printJson({
          last_fund_cycle: cycle.last_at > 0 ? when(cycle.last_at) : null,
          fund_cycle_retry_at: cycle.retry_at ? when(cycle.retry_at) : null,
          last_gas_check: gas.last_at > 0 ? when(gas.last_at) : null,
          recent_transfers: recentTransfers(db, 10),
          plan: plan && {
            steps: plan.steps.map((s) => ({ ...s, amount: formatUnits(s.amount, s.decimals) })),
            notes: plan.notes,
          },
          plan_error: planError,
        });
      }
      say(`last fund cycle: ${when(cycle.last_at)}${cycle.retry_at ? ` (retry at ${when(cycle.retry_at)})` : ""}`);
      say(`last gas check:  ${when(gas.last_at)}`);
      const recent = recentTransfers(db, 10);
      if (recent.length) say("recent transfers:");
      for (const t of recent)
        say(`  ${t.created_at} ${t.step} ${t.amount} ${t.token} → ${t.to_address} ${t.state} ${t.tx_hash}`);
      say("a cycle now would move:");
      try {
        printReport("fund cycle", await manager.runCycle({ dryRun: true }), false);
      } catch (e) {
        say(`  cannot plan: ${oneLine(e)}`);
        process.exitCode = 1;
      }
    } finally {
      db.close();
    }
  },
});

export default defineCommand({
  meta: {
    name: "funds",
    description:
      "Collect revenue from the contract, pay revenue shares, keep the server wallet in gas (fund_manager in blockhost.yaml)",
    examples: ["blockhost funds status"],
  },
  subCommands: { status, run },
});
