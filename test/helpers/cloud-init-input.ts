// A VM's cloud-init input with fixed test values; tests override what they look at.
import type { Allocation } from "../../src/provision/allocate.ts";
import type { CloudInitInput } from "../../src/provision/cloud-init.ts";

export const cloudInitInput = (allocation: Allocation, o: Partial<CloudInitInput> = {}): CloudInitInput => ({
  name: "a",
  username: "admin",
  walletAddress: "0x1111111111111111111111111111111111111111",
  nftTokenId: null,
  allocation,
  secretKey: "00".repeat(32),
  otpLength: 6,
  otpTtlSeconds: 300,
  nameservers: ["192.0.2.53", "2001:db8:53::53"],
  ...o,
});
