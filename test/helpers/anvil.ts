/** The anvil devnet the tests use is the same one `blockhost dev` runs. */
export * from "../../src/dev/anvil.ts";
