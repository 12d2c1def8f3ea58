/** How a foreground service (wizard, serve, signing page, dev) waits to be told to stop. */

/** Resolves at the first SIGTERM (systemd stopping the unit) or SIGINT (Ctrl-C in a terminal). */
export function untilStopSignal(): Promise<void> {
  return new Promise<void>((resolve) => {
    process.once("SIGTERM", () => resolve());
    process.once("SIGINT", () => resolve());
  });
}
