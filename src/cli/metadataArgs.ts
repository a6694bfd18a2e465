// Parses `KEY=VALUE`, `KEY:type=VALUE`, `KEY:[type]=[JSON array]` and `KEY=@file` into typed metadata edits.
// Without a type, an existing key keeps its type; a new key's type is inferred from the text.
import { GgufMetadataEntry, GgufValueType, MetadataEdit } from "../core/gguf";
import { CliUsageError } from "./cliCommand";
import { readUtf8File } from "./textInput";

const TYPE_NAMES: Readonly<Record<string, GgufValueType>> = {
  str: GgufValueType.STRING, string: GgufValueType.STRING, bool: GgufValueType.BOOL,
  u8: GgufValueType.UINT8, i8: GgufValueType.INT8, u16: GgufValueType.UINT16, i16: GgufValueType.INT16,
  u32: GgufValueType.UINT32, i32: GgufValueType.INT32, u64: GgufValueType.UINT64, i64: GgufValueType.INT64,
  f32: GgufValueType.FLOAT32, f64: GgufValueType.FLOAT64, float: GgufValueType.FLOAT32, int: GgufValueType.INT32,
};

export const METADATA_ARG_HELP = `KEY=VALUE        existing key: keeps its type; new key: true/false -> bool, integer -> u32 (i32 if negative,
                 i64/u64 if large), decimal -> f32, anything else -> string
KEY:TYPE=VALUE   TYPE is one of ${Object.keys(TYPE_NAMES).join(", ")}
KEY:[TYPE]=JSON  an array of TYPE from a JSON array, e.g. general.tags:[str]='["code","tiny"]'; an existing
                 array key keeps its element type: KEY='[1,2,3]'; KEY:[TYPE]=@FILE reads the JSON from FILE
KEY=@FILE        string read from FILE (must be valid UTF-8), e.g. tokenizer.chat_template=@template.jinja; "@@" starts a literal "@"`;

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

/** A JSON array of scalars as a GGUF array of `elementType` (each element checked as that type). */
function convertArray(key: string, elementType: GgufValueType, text: string): MetadataEdit {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new CliUsageError(`${key}: the array value is not valid JSON (${(e as Error).message})`);
  }
  if (!Array.isArray(parsed)) throw new CliUsageError(`${key}: an array value must be a JSON array like ["a","b"] or [1,2]`);
  const values = parsed.map((v, i) => {
    if (v === null || typeof v === "object") throw new CliUsageError(`${key}[${i}]: nested arrays and objects are not supported`);
    return convert(`${key}[${i}]`, elementType, String(v)).value;
  });
  return { key, type: GgufValueType.ARRAY, value: { kind: "array", elementType, values } };
}

export async function parseMetadataArg(arg: string, existing: ReadonlyMap<string, GgufMetadataEntry>): Promise<MetadataEdit> {
  const eq = arg.indexOf("=");
  if (eq <= 0) throw new CliUsageError(`expected KEY=VALUE, got "${arg}"`);
  let key = arg.slice(0, eq);
  let text = arg.slice(eq + 1);
  let type: GgufValueType | undefined;
  let elementType: GgufValueType | undefined;
  const colon = key.lastIndexOf(":");
  if (colon > 0) {
    const name = key.slice(colon + 1);
    const inner = /^\[(\w+)\]$/.exec(name)?.[1];
    if (inner !== undefined) {
      elementType = TYPE_NAMES[inner];
      if (elementType === undefined) throw new CliUsageError(`unknown element type "${inner}" in "${key}"`);
      type = GgufValueType.ARRAY;
    } else {
      type = TYPE_NAMES[name];
      if (type === undefined) throw new CliUsageError(`unknown type "${name}" in "${key}"`);
    }
    key = key.slice(0, colon);
  }
  if (text.startsWith("@@")) text = text.slice(1);
  else if (text.startsWith("@")) {
    try {
      text = await readUtf8File(text.slice(1));
    } catch (e) {
      throw new CliUsageError(`${key}: cannot use ${text.slice(1)}: ${(e as Error).message}`);
    }
    type ??= GgufValueType.STRING;
  }
  if (type === undefined) {
    const prev = existing.get(key);
    if (prev?.type === GgufValueType.ARRAY && typeof prev.value === "object" && "elementType" in prev.value) {
      if (prev.value.elementType === GgufValueType.ARRAY) throw new CliUsageError(`${key}: nested arrays cannot be set from the command line`);
      type = GgufValueType.ARRAY;
      elementType = prev.value.elementType;
    } else {
      type = prev ? prev.type : inferType(text);
    }
  }
  if (type === GgufValueType.ARRAY) return convertArray(key, elementType as GgufValueType, text);
  return convert(key, type, text);
}
