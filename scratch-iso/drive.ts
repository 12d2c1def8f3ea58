// Scratch driver (not committed): build the unattended ISO, install on a blank disk, keep the disk.
import { join } from "node:path";
import { buildIso } from "../scripts/iso/build.ts";
import { DEFAULT_CACHE } from "../scripts/iso/image.ts";
import { ensureDeb } from "../test/helpers/deb.ts";
import { blankDisk, freePort, Machine } from "../test/helpers/iso.ts";
const suite = (process.argv[2] ?? "bookworm") as "bookworm" | "trixie";
const OUT = `/var/tmp/bh-iso-work-iso/${suite}`;
let t = performance.now();
const built = buildIso({ suite, deb: ensureDeb(), output: join(OUT, "unattended.iso"), cache: DEFAULT_CACHE,
  unattended: "blockhost.disk=/dev/vda blockhost.erase=yes", say: (l) => console.log(`iso: ${l}`) });
console.log(`BUILD ${((performance.now() - t) / 1000).toFixed(0)} s, ${(built.bytes / 2 ** 20).toFixed(0)} MiB, imageBuilt=${built.imageBuilt} imageSeconds=${built.imageSeconds}`);
if (process.argv[3] === "build-only") process.exit(0);
const disk = blankDisk(OUT, 12);
const ports = { http: freePort(), https: freePort() };
console.log("PORTS", JSON.stringify(ports));
const vm = Machine.start({ firmware: "bios", cdrom: built.iso, disk, cdromOnce: true, forward: { 80: ports.http, 443: ports.https }, log: join(OUT, "serial.log") });
t = performance.now();
try {
  await vm.waitFor(/BLOCKHOST-INSTALL-COMPLETE on \/dev\/vda/, 90 * 60_000, "install");
  console.log(`INSTALL ${((performance.now() - t) / 1000).toFixed(0)} s`);
  const m = vm.mark(); t = performance.now();
  const c = await vm.waitFor(/(?:One-time code|Code): ([A-Z2-9]{6})\b/, 30 * 60_000, "code", m);
  console.log(`FIRSTBOOT ${((performance.now() - t) / 1000).toFixed(0)} s code ${c[1]}`);
} catch (e) { console.log(String(e)); }
await vm.stop();
