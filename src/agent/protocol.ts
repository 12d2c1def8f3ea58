/** The root agent's wire format: length-prefixed JSON frames. */
import { BlockhostError, hasCode } from "../core/errors.ts";

/**
 * The root agent's wire format, identical to the original's so old clients interoperate:
 * a 4-byte big-endian length, then that many bytes of UTF-8 JSON. Requests are
 * `{"action": "...", "params": {...}}`; responses `{"ok": true, ...}` or
 * `{"ok": false, "error": "...", "code": "E_..."}`.
 */
export const MAX_FRAME_BYTES = 1024 * 1024;
const HEADER = 4;

/** A framing or request-shape error; `fatal` when the stream cannot be resynced. */
export function frameError(message: string, fatal: boolean): BlockhostError {
  return new BlockhostError("E_AGENT_PROTOCOL", message, { fatal });
}

export const isFrameError = (e: unknown): e is BlockhostError => hasCode(e, "E_AGENT_PROTOCOL");
export const isFatalFrameError = (e: unknown): boolean => isFrameError(e) && e.details?.fatal === true;

export function encodeFrame(message: unknown): Uint8Array {
  const body = new TextEncoder().encode(JSON.stringify(message));
  const frame = new Uint8Array(HEADER + body.length);
  new DataView(frame.buffer).setUint32(0, body.length, false);
  frame.set(body, HEADER);
  return frame;
}

/**
 * Reassembles frames from arbitrary chunks. An empty frame is reported and skipped (the
 * stream stays in sync); a length over the cap is fatal (the stream cannot be resynced).
 */
export class FrameDecoder {
  private buffer: Uint8Array = new Uint8Array(0);

  constructor(private readonly maxBytes = MAX_FRAME_BYTES) {}

  /** Bytes received that do not yet form a whole frame. */
  get pending(): number {
    return this.buffer.length;
  }

  /** Feed a chunk; returns every complete payload, or E_AGENT_PROTOCOL errors in stream order. */
  push(chunk: Uint8Array): Array<Uint8Array | BlockhostError> {
    this.buffer = this.buffer.length === 0 ? chunk.slice() : concat(this.buffer, chunk);
    const out: Array<Uint8Array | BlockhostError> = [];
    let offset = 0;
    while (this.buffer.length - offset >= HEADER) {
      const length = new DataView(this.buffer.buffer, this.buffer.byteOffset + offset, HEADER).getUint32(0, false);
      if (length > this.maxBytes) {
        out.push(frameError(`frame of ${length} bytes exceeds the ${this.maxBytes}-byte limit`, true));
        this.buffer = new Uint8Array(0);
        return out;
      }
      if (length === 0) {
        out.push(frameError("empty frame", false));
        offset += HEADER;
        continue;
      }
      if (this.buffer.length - offset - HEADER < length) break;
      out.push(this.buffer.slice(offset + HEADER, offset + HEADER + length));
      offset += HEADER + length;
    }
    this.buffer = offset === 0 ? this.buffer : this.buffer.slice(offset);
    return out;
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

export interface AgentRequest {
  readonly action: string;
  readonly params: Record<string, unknown>;
}

const ACTION_NAME_RE = /^[a-z0-9][a-z0-9-]{0,63}$/;

/** Parse a request payload; throws a non-fatal frame error naming what is wrong. */
export function parseRequest(payload: Uint8Array): AgentRequest {
  let data: unknown;
  try {
    data = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(payload));
  } catch {
    throw frameError("request is not valid UTF-8 JSON", false);
  }
  if (typeof data !== "object" || data === null || Array.isArray(data))
    throw frameError("request must be a JSON object", false);
  const req = data as Record<string, unknown>;
  for (const key of Object.keys(req)) {
    if (key !== "action" && key !== "params")
      throw frameError(`request has unknown key "${key.slice(0, 64)}" (allowed: action, params)`, false);
  }
  if (typeof req.action !== "string" || !ACTION_NAME_RE.test(req.action))
    throw frameError("request.action must be an action name", false);
  const params = req.params ?? {};
  if (typeof params !== "object" || params === null || Array.isArray(params))
    throw frameError("request.params must be an object", false);
  return { action: req.action, params: params as Record<string, unknown> };
}
