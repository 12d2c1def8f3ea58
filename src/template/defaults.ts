/** Where a template build takes its guest binary and puts its image unless told otherwise. */
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { paths } from "../core/paths.ts";
import { DEFAULT_OS, libvirtTemplateFor } from "../core/template/os.ts";

/** Where the baseline binary is: beside this binary (dist/), else where the Debian package installs it. */
export function defaultGuestBinary(): string {
  const candidates = [
    join(dirname(process.execPath), "blockhost-baseline"),
    "/usr/share/blockhost/vm/blockhost-baseline",
  ];
  return candidates.find((c) => existsSync(c)) ?? candidates[1]!;
}

/** The default OS's template keeps the plain name; another OS's sits beside it (blockhost-template-debian-13.qcow2). */
export const defaultTemplatePath = (os = DEFAULT_OS) =>
  libvirtTemplateFor(join(paths.templatesDir, "blockhost-template.qcow2"), os);
