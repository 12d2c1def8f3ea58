/** Every relative link in README.md and docs/**.md names a file that exists and, with #anchor, a heading in it. */
import { expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { slug } from "../../../scripts/reference/markdown.ts";

const REPO = join(import.meta.dir, "../../..");

function markdownFiles(): string[] {
  const docs = join(REPO, "docs");
  const walk = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
      e.isDirectory() ? walk(join(dir, e.name)) : e.name.endsWith(".md") ? [join(dir, e.name)] : [],
    );
  return [join(REPO, "README.md"), ...(existsSync(docs) ? walk(docs) : [])];
}

/** Markdown without fenced code blocks and inline code (a link shown as code is not a link). */
const unfenced = (text: string) => text.replace(/^(```|~~~)[\s\S]*?^\1/gm, "");
const prose = (text: string) => unfenced(text).replace(/`[^`\n]*`/g, "");

/** The anchors GitHub gives a file's headings (a repeated heading gets -1, -2, …). */
function anchorsOf(file: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  for (const m of unfenced(readFileSync(file, "utf8")).matchAll(/^#{1,6}\s+(.+?)\s*#*\s*$/gm)) {
    const text = m[1]!.replace(/`/g, "").replace(/\[([^\]]*)\]\([^)]*\)/g, "$1");
    const base = slug(text);
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n === 0 ? base : `${base}-${n}`);
  }
  return out;
}

/** Relative link targets in a file: inline links and images, `[text](target)`, and reference definitions. */
function linksOf(file: string): string[] {
  const text = prose(readFileSync(file, "utf8"));
  const inline = [...text.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)].map((m) => m[1]!);
  const defs = [...text.matchAll(/^\s*\[[^\]]+\]:\s*(\S+)/gm)].map((m) => m[1]!);
  return [...inline, ...defs].filter((l) => !/^[a-z][a-z0-9+.-]*:/i.test(l));
}

test("every relative link in README.md and docs/ resolves to a file and heading", () => {
  const broken: string[] = [];
  const files = markdownFiles();
  for (const file of files) {
    for (const link of linksOf(file)) {
      const [path, anchor] = link.split("#", 2) as [string, string | undefined];
      const target = path === "" ? file : resolve(dirname(file), decodeURI(path));
      const where = `${relative(REPO, file)}: ${link}`;
      if (!existsSync(target)) {
        broken.push(`${where} (no such file)`);
        continue;
      }
      if (anchor && (!target.endsWith(".md") || statSync(target).isDirectory() || !anchorsOf(target).has(anchor)))
        broken.push(`${where} (no heading #${anchor})`);
    }
  }
  expect(broken).toEqual([]);
  expect(files.length).toBeGreaterThan(1);
});
