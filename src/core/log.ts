/** One JSON line per event on stderr (journald picks it up). Never pass secrets here. */
export function logEvent(event: string, fields: Record<string, unknown> = {}): void {
  const line = JSON.stringify({ ts: new Date().toISOString(), event, ...fields });
  process.stderr.write(`${line}\n`);
}
