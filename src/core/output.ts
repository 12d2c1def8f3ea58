/** What commands print: JSON for scripts, aligned tables and optional colour for terminals. */

const write = (line: string) => process.stdout.write(`${line}\n`);

/** Print a value as indented JSON (the `--json` output of every command). */
export function printJson(value: unknown): void {
  write(JSON.stringify(value, null, 2));
}

/** Columns padded to their widest cell, two spaces apart, no trailing spaces (no raw tabs). */
export function formatTable(headers: string[], rows: Array<Array<string | number | null | undefined>>): string {
  const cells = [
    headers,
    ...rows.map((r) => r.map((c) => (c === null || c === undefined || c === "" ? "-" : String(c)))),
  ];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => Bun.stringWidth(r[i] ?? ""))));
  return cells
    .map((r) =>
      r
        .map((c, i) => (i === r.length - 1 ? c : c + " ".repeat(widths[i]! - Bun.stringWidth(c))))
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}

export function printTable(headers: string[], rows: Array<Array<string | number | null | undefined>>): void {
  write(formatTable(headers, rows));
}

/** Colour only on a terminal, and never when NO_COLOR is set to anything non-empty (no-color.org). */
export function colourEnabled(stream: { isTTY?: boolean } = process.stdout): boolean {
  return stream.isTTY === true && !process.env.NO_COLOR && process.env.TERM !== "dumb";
}

const sgr = (code: number) => (text: string) => (colourEnabled() ? `\x1b[${code}m${text}\x1b[0m` : text);
export const red = sgr(31);
export const green = sgr(32);
export const yellow = sgr(33);
