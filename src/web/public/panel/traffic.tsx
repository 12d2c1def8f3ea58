/** Traffic on "My servers" and in the admin VM list: used and left of the plan's quota, and the reset date. */
import type { Database } from "bun:sqlite";
import { now } from "../../../core/clock.ts";
import type { VmRecord } from "../../../core/state/vms.ts";
import type { Plans } from "../../../provision/plan-of.ts";
import { trafficJson, trafficLine, vmTraffic } from "../../../provision/traffic-text.ts";

/** What a server card shows: the sentence, and the figures for scripts and tests. */
export type TrafficView = ReturnType<typeof trafficJson> & { line: string };

export function trafficView(db: Database, vm: VmRecord, plans: Plans): TrafficView {
  const t = vmTraffic(db, vm, plans, now().getTime());
  return { ...trafficJson(t), line: trafficLine(t) };
}

/** The card's Traffic row; an over-quota state is said in words, not only by colour. */
export function TrafficRow(props: { t: TrafficView }) {
  return (
    <>
      <dt>Traffic</dt>
      <dd data-field="traffic" data-state={props.t.state}>
        {props.t.state === "normal" ? props.t.line : <strong>{props.t.line}</strong>}
      </dd>
    </>
  );
}
