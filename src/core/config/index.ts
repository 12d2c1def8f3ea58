/** Config loaders, one per file under /etc/blockhost. */
import { paths } from "../paths.ts";
import { loadConfigFile } from "./load.ts";
import {
  blockhostConfigSchema,
  dbConfigSchema,
  httpsConfigSchema,
  web3ConfigSchema,
  type BlockhostConfig,
  type DbConfig,
  type HttpsConfig,
  type Web3Config,
} from "./schemas.ts";

export { loadConfigFile, parseConfigText } from "./load.ts";
export * from "./schemas.ts";

export const loadDbConfig = (file = paths.dbConfig): DbConfig => loadConfigFile(file, dbConfigSchema);
export const loadWeb3Config = (file = paths.web3Config): Web3Config => loadConfigFile(file, web3ConfigSchema);
export const loadBlockhostConfig = (file = paths.blockhostConfig): BlockhostConfig =>
  loadConfigFile(file, blockhostConfigSchema);
export const loadHttpsConfig = (file = paths.httpsConfig): HttpsConfig =>
  loadConfigFile(file, httpsConfigSchema, "json");
