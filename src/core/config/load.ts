/** Load and validate a YAML/JSON/TOML config file against a schema. */
import { parse as parseToml } from "smol-toml";
import { parseDocument } from "yaml";
import { BlockhostError } from "../errors.ts";
import { readRegularFile } from "../regular-file.ts";
import { isSchemaError, type Schema } from "../schema.ts";

export type ConfigFormat = "yaml" | "json" | "toml";

/** Read a YAML, JSON or TOML config file and validate it; every failure names the file and key. */
export function loadConfigFile<T>(file: string, schema: Schema<T>, format: ConfigFormat = "yaml"): T {
  let text: string;
  try {
    text = readRegularFile(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT") throw new BlockhostError("E_CONFIG_MISSING", `${file}: file not found`);
    if (code === "ENOTREG") throw new BlockhostError("E_CONFIG_INVALID", `${file}: not a regular file`);
    throw new BlockhostError("E_CONFIG_INVALID", `${file}: cannot read (${code ?? "error"})`);
  }
  return parseConfigText(file, text, schema, format);
}

export function parseConfigText<T>(file: string, text: string, schema: Schema<T>, format: ConfigFormat = "yaml"): T {
  let data: unknown;
  if (format === "toml") {
    try {
      data = parseToml(text);
    } catch (e) {
      throw new BlockhostError("E_CONFIG_INVALID", `${file}: not valid TOML (${(e as Error).message.split("\n")[0]})`);
    }
  } else if (format === "json") {
    try {
      data = JSON.parse(text);
    } catch (e) {
      throw new BlockhostError("E_CONFIG_INVALID", `${file}: not valid JSON (${(e as Error).message})`);
    }
  } else {
    const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: false });
    if (doc.errors.length > 0) {
      throw new BlockhostError(
        "E_CONFIG_INVALID",
        `${file}: not valid YAML (${doc.errors[0]!.message.split("\n")[0]})`,
      );
    }
    try {
      data = doc.toJS({ maxAliasCount: 0 });
    } catch {
      throw new BlockhostError("E_CONFIG_INVALID", `${file}: YAML aliases (&/*) are not allowed`);
    }
  }
  try {
    return schema.parse(data ?? {}, "");
  } catch (e) {
    if (isSchemaError(e)) {
      throw new BlockhostError("E_CONFIG_INVALID", `${file}: ${e.message}`, { file, key: e.details?.path });
    }
    throw e;
  }
}
