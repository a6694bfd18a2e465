// Typed accessors over metadata entries, so callers need not care whether a number was stored as
// u32 or u64, or whether an array is materialized or lazy.
import { GgufMetadataEntry, GgufValue } from "./types";

type MetadataMap = ReadonlyMap<string, GgufMetadataEntry>;

export function metadataValue(metadata: MetadataMap, key: string): GgufValue | undefined {
  return metadata.get(key)?.value;
}

/** A numeric value as number (64-bit values converted), or undefined if absent or not numeric. */
export function metadataNumber(metadata: MetadataMap, key: string): number | undefined {
  const v = metadata.get(key)?.value;
  if (typeof v === "number") return v;
  if (typeof v === "bigint") return Number(v);
  return undefined;
}

export function metadataString(metadata: MetadataMap, key: string): string | undefined {
  const v = metadata.get(key)?.value;
  return typeof v === "string" ? v : undefined;
}

/** Element count of an array value (materialized or lazy). */
export function metadataArrayLength(metadata: MetadataMap, key: string): number | undefined {
  const v = metadata.get(key)?.value;
  if (typeof v === "object" && v !== null) return v.kind === "array" ? v.values.length : v.count;
  return undefined;
}

/** Numbers of a materialized numeric array (per-layer values such as head_count_kv), else undefined. */
export function metadataNumberArray(metadata: MetadataMap, key: string): number[] | undefined {
  const v = metadata.get(key)?.value;
  if (typeof v !== "object" || v === null || v.kind !== "array") return undefined;
  const out: number[] = [];
  for (const x of v.values) {
    if (typeof x === "number") out.push(x);
    else if (typeof x === "bigint") out.push(Number(x));
    else return undefined;
  }
  return out;
}
