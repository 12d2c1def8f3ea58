/** The operating systems a host offers (blockhost.yaml `os:`), and which template each one boots from. */
import type { BlockhostConfig } from "../core/config/schemas.ts";
import { BlockhostError } from "../core/errors.ts";

export interface OsChoice {
  id: string;
  label: string;
}

/** What the one template built before OS choices existed is. */
export const DEFAULT_OS: OsChoice = { id: "debian-12", label: "Debian 12 (bookworm)" };

/** The offered OS list; without `os:` in blockhost.yaml, the single default template. */
export function offeredOs(cfg: Pick<BlockhostConfig, "os">): OsChoice[] {
  return cfg.os?.length ? cfg.os : [DEFAULT_OS];
}

/** The offered OS with this id, or E_INVALID_INPUT naming the choices. */
export function chooseOs(offered: readonly OsChoice[], id: string | undefined): OsChoice {
  if (id === undefined || id === "") return offered[0]!;
  const found = offered.find((o) => o.id === id);
  if (!found)
    throw new BlockhostError(
      "E_INVALID_INPUT",
      `OS ${JSON.stringify(id)} is not offered here (choose one of ${offered.map((o) => o.id).join(", ")})`,
    );
  return found;
}

/** The template for an OS: the per-OS entry, or the default template for the first offered OS. */
export function templateFor<T>(
  os: string | undefined,
  offered: readonly OsChoice[],
  perOs: Record<string, T> | undefined,
  fallback: T,
  where: string,
): T {
  const chosen = chooseOs(offered, os).id;
  const t = perOs?.[chosen];
  if (t !== undefined) return t;
  if (chosen === offered[0]!.id) return fallback;
  throw new BlockhostError(
    "E_CONFIG_INVALID",
    `${where}.templates: expected a template for ${chosen} (build it with blockhost template build --os ${chosen})`,
  );
}
