// Serializes a GGUF header: metadata from values, tensor infos copied byte-for-byte from the
// source. Lazy arrays are not decoded; they become "copy these source bytes" pieces.
import { GgufError } from "./errors";
import { GgufArray, GgufFile, GgufLazyArray, GgufValue, GgufValueType } from "./types";
import { fixedValueSize, isValueType } from "./valueDecoder";
import { displayName } from "../../shared/displayText";

/** Bytes to write, or a range of the source file to copy. */
export type HeaderPiece = Buffer | { readonly sourceOffset: number; readonly length: number };

export interface HeaderEntry {
  readonly key: string;
  readonly type: GgufValueType;
  readonly value: GgufValue;
  /** The whole key/value pair's bytes in the source, copied verbatim instead of re-encoding `value`. */
  readonly raw?: { readonly sourceOffset: number; readonly length: number };
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

class PieceWriter {
  readonly pieces: HeaderPiece[] = [];
  private buf = Buffer.alloc(64 * 1024);
  private len = 0;
  constructor(private readonly le: boolean) {}

  private room(n: number): void {
    if (this.len + n <= this.buf.length) return;
    const next = Buffer.alloc(Math.max(this.buf.length * 2, this.len + n));
    this.buf.copy(next, 0, 0, this.len);
    this.buf = next;
  }
  flush(): void {
    if (this.len > 0) this.pieces.push(Buffer.from(this.buf.subarray(0, this.len)));
    this.buf = Buffer.alloc(64 * 1024);
    this.len = 0;
  }
  copy(sourceOffset: number, length: number): void {
    this.flush();
    this.pieces.push({ sourceOffset, length });
  }
  bytes(b: Buffer): void {
    this.room(b.length);
    b.copy(this.buf, this.len);
    this.len += b.length;
  }
  u32(v: number): void {
    this.room(4);
    this.len = this.le ? this.buf.writeUInt32LE(v, this.len) : this.buf.writeUInt32BE(v, this.len);
  }
  u64(v: number | bigint): void {
    this.room(8);
    this.len = this.le ? this.buf.writeBigUInt64LE(BigInt(v), this.len) : this.buf.writeBigUInt64BE(BigInt(v), this.len);
  }
  string(s: string, key: string): void {
    // A lone surrogate has no UTF-8 form: Buffer.from would write U+FFFD in its place, silently.
    if (LONE_SURROGATE.test(s)) throw new GgufError("bad-edit", `${key}: the new text is not valid Unicode (a lone surrogate), so it cannot be written as UTF-8`);
    const b = Buffer.from(s, "utf8");
    this.u64(b.length);
    this.bytes(b);
  }
  scalar(type: GgufValueType, v: GgufValue, key: string): void {
    const size = fixedValueSize(type);
    if (size === undefined) throw new Error("not scalar");
    this.room(size);
    const b = this.buf;
    const o = this.len;
    const le = this.le;
    const num = (): number => {
      if (typeof v !== "number" || !Number.isFinite(v)) throw badValue(key, type, v);
      return v;
    };
    const int = (lo: number, hi: number): number => {
      const n = num();
      if (!Number.isInteger(n) || n < lo || n > hi) throw badValue(key, type, v);
      return n;
    };
    const big = (lo: bigint, hi: bigint): bigint => {
      const n = typeof v === "bigint" ? v : typeof v === "number" && Number.isInteger(v) ? BigInt(v) : undefined;
      if (n === undefined || n < lo || n > hi) throw badValue(key, type, v);
      return n;
    };
    switch (type) {
      case GgufValueType.UINT8: b.writeUInt8(int(0, 0xff), o); break;
      case GgufValueType.INT8: b.writeInt8(int(-0x80, 0x7f), o); break;
      case GgufValueType.BOOL:
        if (typeof v !== "boolean") throw badValue(key, type, v);
        b.writeUInt8(v ? 1 : 0, o);
        break;
      case GgufValueType.UINT16: if (le) b.writeUInt16LE(int(0, 0xffff), o); else b.writeUInt16BE(int(0, 0xffff), o); break;
      case GgufValueType.INT16: if (le) b.writeInt16LE(int(-0x8000, 0x7fff), o); else b.writeInt16BE(int(-0x8000, 0x7fff), o); break;
      case GgufValueType.UINT32: if (le) b.writeUInt32LE(int(0, 0xffffffff), o); else b.writeUInt32BE(int(0, 0xffffffff), o); break;
      case GgufValueType.INT32: if (le) b.writeInt32LE(int(-0x80000000, 0x7fffffff), o); else b.writeInt32BE(int(-0x80000000, 0x7fffffff), o); break;
      case GgufValueType.FLOAT32: if (le) b.writeFloatLE(num(), o); else b.writeFloatBE(num(), o); break;
      case GgufValueType.FLOAT64: if (le) b.writeDoubleLE(num(), o); else b.writeDoubleBE(num(), o); break;
      case GgufValueType.UINT64: { const n = big(0n, 2n ** 64n - 1n); if (le) b.writeBigUInt64LE(n, o); else b.writeBigUInt64BE(n, o); break; }
      case GgufValueType.INT64: { const n = big(-(2n ** 63n), 2n ** 63n - 1n); if (le) b.writeBigInt64LE(n, o); else b.writeBigInt64BE(n, o); break; }
      default: throw badValue(key, type, v);
    }
    this.len += size;
  }
  value(type: GgufValueType, v: GgufValue, key: string, source: GgufFile): void {
    if (!isValueType(type)) throw new GgufError("bad-edit", `${displayName(key)}: unknown value type ${String(type)}`);
    if (type === GgufValueType.STRING) {
      if (typeof v !== "string") throw badValue(key, type, v);
      this.string(v, key);
    } else if (type === GgufValueType.ARRAY) {
      if (typeof v !== "object" || v === null) throw badValue(key, type, v);
      this.array(v, key, source);
    } else this.scalar(type, v, key);
  }
  array(v: GgufArray | GgufLazyArray, key: string, source: GgufFile): void {
    this.u32(v.elementType);
    if (v.kind === "lazy-array") {
      if (v.littleEndian !== source.littleEndian || v.byteOffset + v.byteLength > source.fileSize) {
        throw new GgufError("bad-edit", `${displayName(key)}: a lazy array can only be copied from the file it was read from`);
      }
      this.u64(v.count);
      this.copy(v.byteOffset, v.byteLength);
      return;
    }
    this.u64(v.values.length);
    for (const x of v.values) this.value(v.elementType, x, key, source);
  }
}

function badValue(key: string, type: GgufValueType, v: GgufValue): GgufError {
  const shown = typeof v === "object" ? v.kind : JSON.stringify(typeof v === "bigint" ? String(v) : v);
  return new GgufError("bad-edit", `${key}: value ${shown} does not fit type ${GgufValueType[type] ?? type}`);
}

/**
 * The new header for `source` with `entries` as its metadata: magic, version, counts, metadata,
 * the source's tensor infos verbatim, then padding to the alignment when the file has tensor data.
 */
export function encodeHeader(source: GgufFile, entries: readonly HeaderEntry[]): { pieces: HeaderPiece[]; byteLength: number } {
  const w = new PieceWriter(source.littleEndian);
  w.bytes(Buffer.from("GGUF", "latin1"));
  w.u32(source.version);
  w.u64(source.tensors.length);
  w.u64(entries.length);
  for (const e of entries) {
    if (e.raw) {
      w.copy(e.raw.sourceOffset, e.raw.length);
      continue;
    }
    w.string(e.key, e.key);
    w.u32(e.type);
    w.value(e.type, e.value, e.key, source);
  }
  w.copy(source.tensorInfoOffset, source.tensorInfoEnd - source.tensorInfoOffset);
  w.flush();
  let byteLength = 0;
  for (const p of w.pieces) byteLength += Buffer.isBuffer(p) ? p.length : p.length;
  // Vocab-only files are written unpadded by llama.cpp; keep padding only where data follows.
  const padded = source.tensors.length > 0 || source.fileSize >= source.tensorDataOffset;
  if (padded) {
    const pad = (source.alignment - (byteLength % source.alignment)) % source.alignment;
    if (pad > 0) w.pieces.push(Buffer.alloc(pad));
    byteLength += pad;
  }
  return { pieces: w.pieces, byteLength };
}
