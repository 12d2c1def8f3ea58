/** A valid setup file for tests to bend: the dev defaults on a local anvil (loosely typed on purpose). */
import { devSetupFile } from "../../src/dev/setup-file.ts";

// biome-ignore lint/suspicious/noExplicitAny: tests bend the setup file into invalid shapes on purpose
export type LooseSetupFile = Record<string, any>;

export const sampleSetupFile = (extra: Partial<Parameters<typeof devSetupFile>[0]> = {}): LooseSetupFile =>
  devSetupFile({
    rpcUrl: "http://127.0.0.1:8545",
    chainId: 31337,
    adminWallet: "0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65",
    signatureFile: "/root/admin.sig",
    deployerKeyFile: "/root/deployer.key",
    stablecoin: "0x5FbDB2315678afecb367f032d93F642f64180aa3",
    ...extra,
  }) as LooseSetupFile;
