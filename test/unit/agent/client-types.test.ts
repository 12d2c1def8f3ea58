/** The agent client's per-action types. */
import { expect, test } from "bun:test";
import type { ActionName, ActionParams } from "../../../src/agent/actions/index.ts";
import { ACTIONS } from "../../../src/agent/actions/index.ts";
import type { AgentClient } from "../../../src/agent/client.ts";

/**
 * Compile-time checks (tsc runs in `npm test`): the client is typed per action, so a wrong
 * action name or a mistyped param is a type error, not a runtime surprise.
 */
export function typedCalls(c: AgentClient): void {
  void c.call("qm-start", { vmid: 100 });
  void c.call("iptables-open", { port: 22, proto: "tcp", comment: "knock", source: "192.0.2.1" });
  // @ts-expect-error vmid is a number
  void c.call("qm-start", { vmid: "100" });
  // @ts-expect-error no such action
  void c.call("qm-explode", {});
  // @ts-expect-error port is required
  void c.call("iptables-open", { proto: "tcp", comment: "knock" });
  const params: ActionParams<"ip6-route-add"> = { address: "2001:db8::1/128", dev: "vmbr0" };
  void params;
}

test("every action in the table has a literal name the client can type", () => {
  const names: ActionName[] = [...ACTIONS.keys()] as ActionName[];
  expect(names).toContain("qm-start");
  expect(names).toContain("ping");
  expect(new Set(names).size).toBe(ACTIONS.size);
});
