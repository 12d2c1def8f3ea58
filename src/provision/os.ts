/** The operating systems a host offers its customers (blockhost.yaml `os:`), from those templates are built for. */
import type { BlockhostConfig } from "../core/config/schemas.ts";
import { BlockhostError } from "../core/errors.ts";
import { DEFAULT_OS, isOsId, type OsId, TEMPLATE_OSES } from "../core/template/os.ts";

export interface OsChoice {
  id: OsId;
  label: string;
}

/** The offered OS list, first the default; without `os:` in blockhost.yaml, only the default OS. */
export function offeredOs(cfg: Pick<BlockhostConfig, "os">): OsChoice[] {
  const ids = cfg.os?.length ? (cfg.os as OsId[]) : [DEFAULT_OS];
  return ids.map((id) => ({ id, label: TEMPLATE_OSES[id].label }));
}

/** The offered OS with this id (the first offered when none is named), or E_INVALID_INPUT naming the choices. */
export function chooseOs(offered: readonly OsChoice[], id: string | undefined): OsId {
  if (id === undefined || id === "") return offered[0]!.id;
  const found = isOsId(id) ? offered.find((o) => o.id === id) : undefined;
  if (!found)
    throw new BlockhostError(
      "E_INVALID_INPUT",
      `OS ${JSON.stringify(id)} is not offered here (choose one of ${offered.map((o) => o.id).join(", ")})`,
    );
  return found.id;
}
