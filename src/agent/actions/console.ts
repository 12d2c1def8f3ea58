/**
 * Serial console actions: open a relay session (console-relay.ts) to one of BlockHost's VMs. The
 * caller names only the VM (a scoped domain or VMID), never a path: the agent finds the serial port
 * itself, so the relay cannot be pointed at another VM, a host tty or an arbitrary socket.
 */
import { closeSync, constants, fstatSync, lstatSync, openSync } from "node:fs";
import { connect, Socket } from "node:net";
import { join } from "node:path";
import { BlockhostError } from "../../core/errors.ts";
import { paths } from "../../core/paths.ts";
import { int, object } from "../../core/schema.ts";
import { vmid } from "../../core/validators.ts";
import { CONSOLE_IDLE_MAX_S, openConsoleSession } from "../console-relay.ts";
import { vmApi } from "../pve-api.ts";
import { domain, URI } from "./libvirt.ts";
import { classifyVirshFailure } from "./virsh-failure.ts";
import { defineAction } from "./types.ts";

const idle_seconds = int(1, CONSOLE_IDLE_MAX_S);
/** What `virsh ttyconsole` may answer: a Unix98 pty slave, nothing else. */
const PTY_RE = /^\/dev\/pts\/\d{1,6}$/;

/** Open the pty the way a terminal program would: read/write, never as our controlling tty, never through a link. */
function openPty(path: string): Socket {
  if (!PTY_RE.test(path))
    throw new BlockhostError("E_STATE", `libvirt named ${path.slice(0, 64)} as the console, not a pty`);
  const fd = openSync(path, constants.O_RDWR | constants.O_NOCTTY | constants.O_NONBLOCK | constants.O_NOFOLLOW);
  if (!fstatSync(fd).isCharacterDevice()) {
    closeSync(fd);
    throw new BlockhostError("E_STATE", `${path} is not a character device`);
  }
  return new Socket({ fd, readable: true, writable: true });
}

/**
 * `{socket, took_over}`: a session socket (0600, the caller's) relaying the libvirt domain's serial
 * console (its `<serial type='pty'>`). The domain must be running.
 */
export const virshConsoleOpen = defineAction({
  name: "virsh-console-open",
  params: object({ name: domain, idle_seconds }),
  timeoutMs: 30_000,
  handler: async (p, ctx) => {
    const state = await ctx.run("virsh", ["-q", "-c", URI, "domstate", p.name]).catch((e) => {
      throw classifyVirshFailure(e);
    });
    if (state.stdout.trim() !== "running")
      throw new BlockhostError(
        "E_STATE",
        `${p.name} is not running (${state.stdout.trim()}); start it to use the console`,
      );
    const tty = await ctx.run("virsh", ["-q", "-c", URI, "ttyconsole", p.name]);
    const target = openPty(tty.stdout.trim());
    return await openConsoleSession({ key: `domain:${p.name}`, peer: ctx.peer, idleSeconds: p.idle_seconds, target });
  },
});

/** Connect to qemu's serial socket as `qm terminal` does (socat UNIX-CONNECT), refusing anything but a socket. */
async function connectSerial(path: string): Promise<Socket> {
  const st = lstatSync(path, { throwIfNoEntry: false });
  if (!st?.isSocket()) throw new BlockhostError("E_STATE", `${path} is not a serial socket (is the VM running?)`);
  const socket = connect(path);
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", resolve);
    socket.once("error", (e) => reject(new BlockhostError("E_STATE", `cannot connect to ${path}: ${e.message}`)));
  });
  return socket;
}

/**
 * `{socket, took_over}` relaying a Proxmox VM's first serial port on THIS node, like `qm terminal
 * VMID --iface serial0`: the VM needs `serial0: socket` and must be running. A VM on another cluster
 * node is refused (its socket is on that node; PVE reaches it with `qm terminal` under termproxy there).
 */
export const qmConsoleOpen = defineAction({
  name: "qm-console-open",
  params: object({ vmid, idle_seconds }),
  timeoutMs: 30_000,
  handler: async (p, ctx) => {
    const api = vmApi(ctx, undefined);
    let config: Record<string, string>;
    try {
      config = await api.config(p.vmid);
    } catch {
      throw new BlockhostError(
        "E_STATE",
        `VM ${p.vmid} has no configuration on this node; its console opens only here`,
      );
    }
    // qm terminal's own words when no serial port is a socket.
    if (config.serial0 !== "socket") throw new BlockhostError("E_STATE", "unable to find a serial interface");
    if ((await api.status(p.vmid)) !== "running") throw new BlockhostError("E_STATE", `VM ${p.vmid} not running`);
    const target = await connectSerial(join(paths.qemuServerRunDir, `${p.vmid}.serial0`));
    return await openConsoleSession({ key: `vmid:${p.vmid}`, peer: ctx.peer, idleSeconds: p.idle_seconds, target });
  },
});
