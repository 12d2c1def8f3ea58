/** Value checks for Proxmox options, and the `key=value,…` property-string format many of them use. */

export type Check = (value: string) => boolean;

export const re =
  (pattern: RegExp): Check =>
  (v) =>
    pattern.test(v);
export const intIn =
  (min: number, max: number): Check =>
  (v) =>
    /^\d{1,9}$/.test(v) && Number(v) >= min && Number(v) <= max;
export const oneOf =
  (...values: string[]): Check =>
  (v) =>
    values.includes(v);

export interface PropertyFormat {
  /** The key an item without `=` sets (JSONSchema `default_key`). */
  defaultKey?: string;
  keys: Record<string, Check>;
  /** `key=value` items that stand for other keys (qemu-server's `virtio=MAC` = model + macaddr). */
  aliases?: Record<string, (value: string) => Record<string, string>>;
  /** `{gw: "ip"}`: gw only together with ip (JSONSchema `requires`). */
  requires?: Record<string, string>;
  required?: string[];
}

/**
 * A check for a Proxmox property string the way pve-common's parse_property_string reads it:
 * comma-separated items in any order, each key at most once, values checked per key.
 */
export function propertyString(format: PropertyFormat): Check {
  return (v) => {
    if (v.length === 0 || v.length > 1024) return false;
    const seen = new Map<string, string>();
    const set = (key: string, value: string) => {
      const check = format.keys[key];
      if (seen.has(key) || !check || !check(value)) return false;
      seen.set(key, value);
      return true;
    };
    for (const item of v.split(",")) {
      const eq = item.indexOf("=");
      if (eq < 0) {
        if (!format.defaultKey || !set(format.defaultKey, item)) return false;
        continue;
      }
      const key = item.slice(0, eq);
      const value = item.slice(eq + 1);
      const alias = format.aliases && Object.hasOwn(format.aliases, key) ? format.aliases[key] : undefined;
      if (alias) {
        if (!Object.entries(alias(value)).every(([k, x]) => set(k, x))) return false;
      } else if (!Object.hasOwn(format.keys, key) || !set(key, value)) return false;
    }
    const requires = Object.entries(format.requires ?? {});
    if (requires.some(([key, needed]) => seen.has(key) && !seen.has(needed))) return false;
    return (format.required ?? []).every((k) => seen.has(k));
  };
}
