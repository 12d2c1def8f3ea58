/** A small allowlist validator shared by config files, agent actions, HTTP forms and CLIs. */
import { BlockhostError, hasCode } from "./errors.ts";

/**
 * Every schema either returns a value of its type or throws an E_SCHEMA error naming the
 * offending key and what was expected (`details: { path, expected }`). Objects are exact:
 * unknown keys are refused.
 */
export function schemaError(path: string, expected: string, problem = `expected ${expected}`): BlockhostError {
  return new BlockhostError("E_SCHEMA", `${path || "value"}: ${problem}`, { path, expected });
}

/** A value refused by a schema. */
export const isSchemaError = (e: unknown): e is BlockhostError => hasCode(e, "E_SCHEMA");

/** What the schema that refused a value expected ("" for other errors). */
export const expectedOf = (e: BlockhostError): string => String(e.details?.expected ?? "");

export interface Schema<T> {
  readonly describe: string;
  parse(value: unknown, path?: string): T;
  /** What the reference generator (scripts/docs.ts) reads; validation never looks at it. */
  readonly doc?: SchemaDoc;
}

/** The structure behind a schema, for generated documentation. */
export type SchemaDoc =
  | { readonly kind: "object"; readonly shape: Readonly<Record<string, Schema<unknown>>> }
  | { readonly kind: "default"; readonly inner: Schema<unknown>; readonly fallback: unknown }
  | { readonly kind: "array" | "record" | "refine"; readonly inner: Schema<unknown> };

export type Infer<S> = S extends Schema<infer T> ? T : never;

const schema = <T>(describe: string, parse: (v: unknown, path: string) => T, doc?: SchemaDoc): Schema<T> => ({
  describe,
  parse: (v, path = "") => parse(v, path),
  ...(doc ? { doc } : {}),
});

const fail = (path: string, expected: string): never => {
  throw schemaError(path, expected);
};

/** An integer in [min, max]. */
export function int(min: number, max: number): Schema<number> {
  const d = `an integer from ${min} to ${max}`;
  return schema(d, (v, p) =>
    Number.isSafeInteger(v) && (v as number) >= min && (v as number) <= max ? (v as number) : fail(p, d),
  );
}

/** A finite number (decimals allowed) in [min, max]. */
export function num(min: number, max: number): Schema<number> {
  const d = `a number from ${min} to ${max}`;
  return schema(d, (v, p) => (typeof v === "number" && Number.isFinite(v) && v >= min && v <= max ? v : fail(p, d)));
}

/** A string that matches the whole of `pattern` (anchor it) and is at most `maxLength` long. */
export function str(pattern: RegExp, describe: string, maxLength = 4096): Schema<string> {
  if (!pattern.source.startsWith("^") || !pattern.source.endsWith("$"))
    throw new BlockhostError("E_INTERNAL", `unanchored pattern ${pattern}`);
  return schema(describe, (v, p) =>
    typeof v === "string" && v.length <= maxLength && !v.includes("\0") && pattern.test(v) ? v : fail(p, describe),
  );
}

export const bool: Schema<boolean> = schema("true or false", (v, p) =>
  typeof v === "boolean" ? v : fail(p, "true or false"),
);

export function literal<const T extends string | number>(...options: T[]): Schema<T> {
  const d = `one of ${options.map((o) => JSON.stringify(o)).join(", ")}`;
  return schema(d, (v, p) => (options.includes(v as T) ? (v as T) : fail(p, d)));
}

export function array<T>(item: Schema<T>, min = 0, max = 1000): Schema<T[]> {
  const d = `a list of ${min}..${max} items, each ${item.describe}`;
  return schema(
    d,
    (v, p) => {
      if (!Array.isArray(v) || v.length < min || v.length > max) return fail(p, d);
      return v.map((x, i) => item.parse(x, `${p}[${i}]`));
    },
    { kind: "array", inner: item },
  );
}

/** A field that may be absent (undefined); `null` is not absence. */
export interface Optional<T> extends Schema<T | undefined> {
  readonly optional: true;
}
export function optional<T>(inner: Schema<T>): Optional<T> {
  return {
    optional: true,
    describe: inner.describe,
    parse: (v, p = "") => (v === undefined ? undefined : inner.parse(v, p)),
    ...(inner.doc ? { doc: inner.doc } : {}),
  };
}

/** Optional with a default used when absent. */
export function withDefault<T>(inner: Schema<T>, fallback: T): Schema<T> {
  return schema(inner.describe, (v, p) => (v === undefined ? fallback : inner.parse(v, p)), {
    kind: "default",
    inner,
    fallback,
  });
}

type Shape = Record<string, Schema<unknown>>;
type OptionalKeys<S extends Shape> = { [K in keyof S]: S[K] extends Optional<unknown> ? K : never }[keyof S];
type RequiredKeys<S extends Shape> = Exclude<keyof S, OptionalKeys<S>>;
export type ObjectOf<S extends Shape> = { [K in RequiredKeys<S>]: Infer<S[K]> } & {
  [K in OptionalKeys<S>]?: Infer<S[K]>;
};

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" &&
  v !== null &&
  !Array.isArray(v) &&
  (Object.getPrototypeOf(v) === Object.prototype || Object.getPrototypeOf(v) === null);

const join = (p: string, k: string) => (p ? `${p}.${k}` : k);

/** An object with exactly these keys (optional ones may be missing); `extra: "allow"` keeps unknown keys out of the result silently. */
export function object<S extends Shape>(shape: S, opts: { extra?: "refuse" | "ignore" } = {}): Schema<ObjectOf<S>> {
  const keys = Object.keys(shape);
  const d = `an object with keys ${keys.join(", ") || "(none)"}`;
  return schema(
    d,
    (v, p) => {
      if (!isPlainObject(v)) return fail(p, d);
      if (opts.extra !== "ignore") {
        for (const k of Object.keys(v)) {
          if (!Object.hasOwn(shape, k))
            throw schemaError(join(p, k.slice(0, 64)), d, `unknown key (allowed: ${keys.join(", ") || "none"})`);
        }
      }
      const out: Record<string, unknown> = {};
      for (const k of keys) {
        const parsed = shape[k]!.parse(v[k], join(p, k));
        if (parsed !== undefined) out[k] = parsed;
      }
      return out as ObjectOf<S>;
    },
    { kind: "object", shape },
  );
}

/** A map whose keys match `key` and whose values match `value`. */
export function record<T>(key: Schema<string>, value: Schema<T>, max = 1000): Schema<Record<string, T>> {
  const d = `a map of at most ${max} entries (${key.describe} → ${value.describe})`;
  return schema(
    d,
    (v, p) => {
      if (!isPlainObject(v) || Object.keys(v).length > max) return fail(p, d);
      const out: Record<string, T> = {};
      for (const [k, x] of Object.entries(v)) {
        key.parse(k, join(p, k));
        out[k] = value.parse(x, join(p, k));
      }
      return out;
    },
    { kind: "record", inner: value },
  );
}

export function union<T>(describe: string, ...options: Schema<T>[]): Schema<T> {
  return schema(describe, (v, p) => {
    for (const o of options) {
      try {
        return o.parse(v, p);
      } catch (e) {
        if (!isSchemaError(e)) throw e;
      }
    }
    return fail(p, describe);
  });
}

/** Refine a parsed value with an extra check. */
export function refine<T>(inner: Schema<T>, describe: string, check: (v: T) => boolean): Schema<T> {
  return schema(
    describe,
    (v, p) => {
      const parsed = inner.parse(v, p);
      return check(parsed) ? parsed : fail(p, describe);
    },
    { kind: "refine", inner },
  );
}
