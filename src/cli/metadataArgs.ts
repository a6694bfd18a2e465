// Parses `KEY=VALUE`, `KEY:type=VALUE` and `KEY=@file` into typed metadata edits.
// Without a type, an existing key keeps its type; a new key's type is inferred from the text.
import { promises as fsp } from "node:fs";
import { GgufMetadataEntry, GgufValueType, MetadataEdit } from "../core/gguf";
import { CliUsageError } from "./cliCommand";

const TYPE_NAMES: Readonly<Record<string, GgufValueType>> = {
  str: GgufValueType.STRING, string: GgufValueType.STRING, bool: GgufValueType.BOOL,
  u8: GgufValueType.UINT8, i8: GgufValueType.INT8, u16: GgufValueType.UINT16, i16: GgufValueType.INT16,
  u32: GgufValueType.UINT32, i32: GgufValueType.INT32, u64: GgufValueType.UINT64, i64: GgufValueType.INT64,
  f32: GgufValueType.FLOAT32, f64: GgufValueType.FLOAT64, float: GgufValueType.FLOAT32, int: GgufValueType.INT32,
};

export const METADATA_ARG_HELP = `KEY=VALUE        existing key: keeps its type; new key: true/false -> bool, integer -> u32 (i32 if negative,
                 i64/u64 if large), decimal -> f32, anything else -> string
KEY:TYPE=VALUE   TYPE is one of ${Object.keys(TYPE_NAMES).join(", ")}
KEY=@FILE        string read from FILE (UTF-8), e.g. tokenizer.chat_template=@template.jinja; "@@" starts a literal "@"`;

function inferType(text: string): GgufValueType {
  if (text === "true" || text === "false") return GgufValueType.BOOL;
  if (/^-?\d+$/.test(text)) {
    const n = BigInt(text);
    if (n >= 0n && n <= 0xffffffffn) return GgufValueType.UINT32;
    if (n < 0n && n >= -0x80000000n) return GgufValueType.INT32;
    return n < 0n ? GgufValueType.INT64 : GgufValueType.UINT64;
  }
  if (/^-?(\d+\.\d*|\.\d+|\d+(\.\d*)?[eE][-+]?\d+)$/.test(text)) return GgufValueType.FLOAT32;
  return GgufValueType.STRING;
}

function convert(key: string, type: GgufValueType, text: string): MetadataEdit {
  const bad = (): CliUsageError => new CliUsageError(`${key}: "${text.length > 40 ? text.slice(0, 40) + "…" : text}" is not a valid ${Object.keys(TYPE_NAMES).find((k) => TYPE_NAMES[k] === type)}`);
  switch (type) {
    case GgufValueType.STRING: return { key, type, value: text };
    case GgufValueType.BOOL:
      if (text !== "true" && text !== "false") throw bad();
      return { key, type, value: text === "true" };
    case GgufValueType.UINT64: case GgufValueType.INT64:
      if (!/^-?\d+$/.test(text)) throw bad();
      return { key, type, value: BigInt(text) };
    case GgufValueType.FLOAT32: case GgufValueType.FLOAT64: {
      const n = Number(text);
      if (text.trim() === "" || !Number.isFinite(n)) throw bad();
      return { key, type, value: n };
    }
    default: {
      if (!/^-?\d+$/.test(text)) throw bad();
      return { key, type, value: Number(text) }; // range is checked by the encoder
    }
  }
}

export async function parseMetadataArg(arg: string, existing: ReadonlyMap<string, GgufMetadataEntry>): Promise<MetadataEdit> {
  const eq = arg.indexOf("=");
  if (eq <= 0) throw new CliUsageError(`expected KEY=VALUE, got "${arg}"`);
  let key = arg.slice(0, eq);
  let text = arg.slice(eq + 1);
  let type: GgufValueType | undefined;
  const colon = key.lastIndexOf(":");
  if (colon > 0) {
    const name = key.slice(colon + 1);
    type = TYPE_NAMES[name];
    if (type === undefined) throw new CliUsageError(`unknown type "${name}" in "${key}"`);
    key = key.slice(0, colon);
  }
  if (text.startsWith("@@")) text = text.slice(1);
  else if (text.startsWith("@")) {
    try {
      text = await fsp.readFile(text.slice(1), "utf8");
    } catch (e) {
      throw new CliUsageError(`${key}: cannot read ${text.slice(1)}: ${(e as Error).message}`);
    }
    type ??= GgufValueType.STRING;
  }
  if (type === undefined) {
    const prev = existing.get(key);
    type = prev && prev.type !== GgufValueType.ARRAY ? prev.type : inferType(text);
  }
  if (type === GgufValueType.ARRAY) throw new CliUsageError(`${key}: arrays cannot be set from the command line`);
  return convert(key, type, text);
}
