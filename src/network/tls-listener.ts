/** An HTTPS listener whose certificate can be replaced in-process (Bun.serve cannot reload TLS in place). */
import type { Server } from "bun";
import type { TlsFiles } from "./certificates.ts";

type ServeOptions = Omit<Parameters<typeof Bun.serve>[0], "tls" | "port"> & { port: number };

export interface SwappableTlsServer {
  readonly port: number;
  readonly server: Server<undefined>;
  /**
   * Serve new connections with `files`: the old listener stops accepting and lets its open
   * requests finish, a new one binds the same port right after.
   */
  swap(files: TlsFiles): void;
  stop(): Promise<void>;
}

const tlsOf = (f: TlsFiles) => ({ cert: Bun.file(f.cert_file), key: Bun.file(f.key_file) });

/** Start `options` with TLS from `files`; swap() replaces the certificate without restarting the process. */
export function swappableTlsServer(options: ServeOptions, files: TlsFiles): SwappableTlsServer {
  let server = Bun.serve({ ...options, tls: tlsOf(files) } as Parameters<typeof Bun.serve>[0]) as Server<undefined>;
  const port = server.port!;
  return {
    port,
    get server() {
      return server;
    },
    swap(next) {
      const old = server;
      void old.stop(false);
      server = Bun.serve({ ...options, port, tls: tlsOf(next) } as Parameters<
        typeof Bun.serve
      >[0]) as Server<undefined>;
    },
    async stop() {
      await server.stop(true);
    },
  };
}
