/** docs/reference/ is what the code generates today: a changed option, key, code, action or route must be regenerated. */
import { expect, test } from "bun:test";
import { stalePages } from "../../../scripts/docs.ts";

test("docs/reference matches the code (else: run `npm run docs`)", async () => {
  const stale = await stalePages();
  if (stale.length > 0) throw new Error(`docs/reference is stale (${stale.join(", ")}): run \`npm run docs\``);
  expect(stale).toEqual([]);
}, 60_000); // imports every command, schema and app: seconds on a loaded machine
