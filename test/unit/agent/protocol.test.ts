/** Agent framing and request parsing. */
import { describe, expect, test } from "bun:test";
import type { BlockhostError } from "../../../src/core/errors.ts";
import { encodeFrame, FrameDecoder, isFrameError, MAX_FRAME_BYTES, parseRequest } from "../../../src/agent/protocol.ts";

const header = (n: number) => {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n, false);
  return b;
};
const text = (u: Uint8Array) => new TextDecoder().decode(u);
const join = (...parts: Uint8Array[]) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
};

describe("framing", () => {
  test("a frame is a 4-byte big-endian length followed by JSON", () => {
    const frame = encodeFrame({ action: "ping", params: {} });
    const body = '{"action":"ping","params":{}}';
    expect(Array.from(frame.slice(0, 4))).toEqual([0, 0, 0, body.length]);
    expect(text(frame.slice(4))).toBe(body);
  });

  for (const size of [1, 2, 3, 5, 7, 13, 64]) {
    test(`three frames split into ${size}-byte chunks decode in order`, () => {
      const stream = join(encodeFrame({ n: 1 }), encodeFrame({ n: 2, s: "é✓" }), encodeFrame({ n: 3 }));
      const decoder = new FrameDecoder();
      const got: string[] = [];
      for (let i = 0; i < stream.length; i += size) {
        for (const item of decoder.push(stream.slice(i, i + size))) {
          expect(isFrameError(item)).toBe(false);
          got.push(text(item as Uint8Array));
        }
      }
      expect(got).toEqual(['{"n":1}', '{"n":2,"s":"é✓"}', '{"n":3}']);
      expect(decoder.pending).toBe(0);
    });
  }

  test("a zero length is reported and the stream stays in sync", () => {
    const decoder = new FrameDecoder();
    const items = decoder.push(join(header(0), encodeFrame({ after: true })));
    expect(isFrameError(items[0])).toBe(true);
    expect((items[0] as BlockhostError).details?.fatal).toBe(false);
    expect(text(items[1] as Uint8Array)).toBe('{"after":true}');
  });

  test("a length of 2^32-1 is fatal and nothing after it is read", () => {
    const decoder = new FrameDecoder();
    const items = decoder.push(join(header(0xffffffff), encodeFrame({ never: 1 })));
    expect(items).toHaveLength(1);
    expect((items[0] as BlockhostError).details?.fatal).toBe(true);
    expect((items[0] as BlockhostError).message).toContain("exceeds");
  });

  test("exactly 1 MiB is accepted, one byte more is not", () => {
    const ok = new FrameDecoder().push(join(header(MAX_FRAME_BYTES), new Uint8Array(MAX_FRAME_BYTES)));
    expect(ok[0]).toBeInstanceOf(Uint8Array);
    const over = new FrameDecoder().push(header(MAX_FRAME_BYTES + 1));
    expect((over[0] as BlockhostError).details?.fatal).toBe(true);
  });

  test("a truncated frame yields nothing and is held as pending", () => {
    const frame = encodeFrame({ action: "ping", params: {} });
    const decoder = new FrameDecoder();
    expect(decoder.push(frame.slice(0, frame.length - 1))).toEqual([]);
    expect(decoder.pending).toBe(frame.length - 1);
    expect(decoder.push(new Uint8Array(0))).toEqual([]);
    const rest = decoder.push(frame.slice(frame.length - 1));
    expect(text(rest[0] as Uint8Array)).toContain("ping");
  });

  test("a truncated header yields nothing", () => {
    expect(new FrameDecoder().push(new Uint8Array([0, 0]))).toEqual([]);
  });
});

describe("request parsing", () => {
  const enc = (s: string) => new TextEncoder().encode(s);
  test("a well-formed request", () => {
    expect(parseRequest(enc('{"action":"qm-start","params":{"vmid":100}}'))).toEqual({
      action: "qm-start",
      params: { vmid: 100 },
    });
  });
  test("params may be omitted", () => {
    expect(parseRequest(enc('{"action":"ping"}')).params).toEqual({});
  });
  const bad: Array<[string, string | Uint8Array, string]> = [
    ["bad JSON", "{nope", "not valid UTF-8 JSON"],
    ["invalid UTF-8", new Uint8Array([0x7b, 0xff, 0x7d]), "not valid UTF-8 JSON"],
    ["an array", "[1,2]", "must be a JSON object"],
    ["a string", '"ping"', "must be a JSON object"],
    ["null", "null", "must be a JSON object"],
    ["an extra key", '{"action":"ping","params":{},"uid":0}', 'unknown key "uid"'],
    ["a missing action", '{"params":{}}', "action must be"],
    ["a numeric action", '{"action":5}', "action must be"],
    ["an action with a shell metachar", '{"action":"ping; rm -rf /"}', "action must be"],
    ["params as a list", '{"action":"ping","params":[]}', "params must be an object"],
    ["params as a string", '{"action":"ping","params":"x"}', "params must be an object"],
  ];
  for (const [name, input, message] of bad) {
    test(`refuses ${name}`, () => {
      expect(() => parseRequest(typeof input === "string" ? enc(input) : input)).toThrow(message);
    });
  }
});
