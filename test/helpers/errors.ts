/** Assertions on BlockhostError codes: what a thrown error's code is. */
import { isBlockhostError } from "../../src/core/errors.ts";

/** The code of the BlockhostError `work` throws, or a phrase saying what happened instead. */
export function codeThrownBy(work: () => unknown): string {
  try {
    work();
  } catch (e) {
    return isBlockhostError(e) ? e.code : `not a BlockhostError: ${String(e)}`;
  }
  return "nothing thrown";
}
