// Decodes GGUF values from a FileWindow at a moving position. Every count and length is checked
// against the bytes left in the file BEFORE anything is allocated, so a crafted header cannot make
// us allocate more than the file could hold.
import { GgufError } from "./errors";
import { FileWindow } from "./fileWindow";
import { GgufArray, GgufLazyArray, GgufValue, GgufValueType } from "./types";

const FIXED_SIZE: Readonly<Record<number, number>> = {
  [GgufValueType.UINT8]: 1, [GgufValueType.INT8]: 1, [GgufValueType.BOOL]: 1,
  [GgufValueType.UINT16]: 2, [GgufValueType.INT16]: 2,
  [GgufValueType.UINT32]: 4, [GgufValueType.INT32]: 4, [GgufValueType.FLOAT32]: 4,
  [GgufValueType.UINT64]: 8, [GgufValueType.INT64]: 8, [GgufValueType.FLOAT64]: 8,
};

/** Fixed byte size of a value type, undefined for STRING and ARRAY. */
export function fixedValueSize(type: GgufValueType): number | undefined {
  return FIXED_SIZE[type];
}

/** The fewest bytes one element of this type can take on disk (used to bound counts). */
export function minValueSize(type: GgufValueType): number {
  return FIXED_SIZE[type] ?? (type === GgufValueType.STRING ? 8 : 12);
}

export function isValueType(n: number): n is GgufValueType {
  return Number.isInteger(n) && n >= 0 && n <= 12;
}

const MAX_NESTING = 16;
export const CHECKPOINT_STRIDE = 256;

export interface DecodeOptions {
  /** Arrays with more elements than this are returned as lazy descriptors. */
  readonly maxMaterializedArrayLength: number;
  /** See ReadGgufOptions.yieldEveryMs. */
  readonly yieldEveryMs?: number;
}

const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export class ValueDecoder {
  pos = 0;
  private sliceStart = performance.now();
  constructor(
    readonly w: FileWindow,
    readonly le: boolean,
    readonly options: DecodeOptions,
  ) {}

  /** Yields to the event loop when yieldEveryMs is set and that much time passed since the last turn. */
  async maybeYield(): Promise<void> {
    const every = this.options.yieldEveryMs;
    if (every === undefined || performance.now() - this.sliceStart < every) return;
    await yieldToEventLoop();
    this.sliceStart = performance.now();
  }

  private async need(n: number, what: string): Promise<void> {
    if (this.pos + n > this.w.end || this.pos < this.w.start) await this.w.load(this.pos, n, what);
  }

  /** True when [pos, pos+n) is in the window: the sync readers below may be used. */
  has(n: number): boolean {
    return this.pos >= this.w.start && this.pos + n <= this.w.end;
  }

  /** Loads at least min(n, bytes left) bytes at pos; no-op when already there. */
  async prefetch(n: number, what: string): Promise<void> {
    const want = Math.min(n, this.w.size - this.pos);
    if (want > 0 && !this.has(want)) await this.w.load(this.pos, want, what);
  }

  private shortRead(n: number, what: string): GgufError {
    return new GgufError("truncated", `file ends inside ${what}: needs ${n} bytes, ${Math.max(0, this.w.size - this.pos)} left`, this.pos, this.w.path);
  }

  u32Sync(what: string): number {
    if (!this.has(4)) throw this.shortRead(4, what);
    const o = this.pos - this.w.start;
    this.pos += 4;
    return this.le ? this.w.buf.readUInt32LE(o) : this.w.buf.readUInt32BE(o);
  }

  u64Sync(what: string): number {
    if (!this.has(8)) throw this.shortRead(8, what);
    const at = this.pos;
    const o = at - this.w.start;
    this.pos += 8;
    const b = this.w.buf;
    const lo = this.le ? b.readUInt32LE(o) : b.readUInt32BE(o + 4);
    const hi = this.le ? b.readUInt32LE(o + 4) : b.readUInt32BE(o);
    if (hi > 0x1fffff) throw new GgufError("value-out-of-range", `${what} ${(BigInt(hi) << 32n) + BigInt(lo)} is too large`, at, this.w.path);
    return hi * 4294967296 + lo;
  }

  /** The u64 length at pos, without moving (check has(8) first); lengths ≥ 2^53 come out huge, never small. */
  peekLength(): number {
    const o = this.pos - this.w.start;
    const b = this.w.buf;
    return this.le ? b.readUInt32LE(o) + b.readUInt32LE(o + 4) * 4294967296 : b.readUInt32BE(o + 4) + b.readUInt32BE(o) * 4294967296;
  }

  /** A string whose length field and bytes are in the window (else a truncated error). */
  stringSync(what: string): string {
    const at = this.pos;
    const len = this.u64Sync(what);
    if (len > this.w.size - this.pos) {
      throw new GgufError("length-past-eof", `${what} length ${len} runs past the end of the file (${this.w.size - this.pos} bytes left)`, at, this.w.path);
    }
    if (!this.has(len)) throw this.shortRead(len, what);
    const o = this.pos - this.w.start;
    this.pos += len;
    return this.w.buf.toString("utf8", o, o + len);
  }

  /** The string at pos when its length field and bytes are all in the window, else undefined (pos unchanged). */
  tryStringSync(what: string): string | undefined {
    if (!this.has(8)) return undefined;
    const len = this.peekLength();
    if (len > this.w.size - this.pos - 8 || !this.has(8 + len)) return undefined; // the slow path reports errors
    return this.stringSync(what);
  }

  valueTypeSync(what: string): GgufValueType {
    const at = this.pos;
    const t = this.u32Sync(what);
    if (!isValueType(t)) throw new GgufError("unknown-value-type", `unknown value type ${t} for ${what}`, at, this.w.path);
    return t;
  }

  /** Reads a string, loading more of the file only when it crosses the window. */
  async stringFast(what: string): Promise<string> {
    if (!this.has(8)) await this.prefetch(8, what);
    if (this.has(8)) {
      const len = this.peekLength();
      if (len <= this.w.size - this.pos - 8 && !this.has(8 + len)) await this.w.load(this.pos, 8 + len, what);
    }
    return this.stringSync(what);
  }

  async u32(what: string): Promise<number> {
    if (this.pos + 4 > this.w.end || this.pos < this.w.start) await this.w.load(this.pos, 4, what);
    return this.u32Sync(what);
  }

  /** A u64 used as a count, length or offset: must fit in a safe integer. */
  async u64(what: string): Promise<number> {
    if (this.pos + 8 > this.w.end || this.pos < this.w.start) await this.w.load(this.pos, 8, what);
    return this.u64Sync(what);
  }

  async string(what: string): Promise<string> {
    const at = this.pos;
    const len = await this.lengthField(1, what);
    await this.need(len, what);
    const o = this.pos - this.w.start;
    this.pos += len;
    void at;
    return this.w.buf.toString("utf8", o, o + len);
  }

  /** Reads a u64 count and checks that `count * minElementSize` bytes can still follow. */
  private async lengthField(minElementSize: number, what: string): Promise<number> {
    const at = this.pos;
    const n = await this.u64(`${what} length`);
    const left = this.w.size - this.pos;
    if (n * minElementSize > left) {
      throw new GgufError("length-past-eof", `${what} length ${n} runs past the end of the file (${left} bytes left)`, at, this.w.path);
    }
    return n;
  }

  async valueType(what: string): Promise<GgufValueType> {
    const at = this.pos;
    const t = await this.u32(what);
    if (!isValueType(t)) throw new GgufError("unknown-value-type", `unknown value type ${t} for ${what}`, at, this.w.path);
    return t;
  }

  async value(type: GgufValueType, what: string, depth = 0): Promise<GgufValue> {
    const size = FIXED_SIZE[type];
    if (size !== undefined) {
      await this.need(size, what);
      const v = this.scalarAt(type, this.pos - this.w.start);
      this.pos += size;
      return v;
    }
    if (type === GgufValueType.STRING) return this.string(what);
    return this.array(what, depth);
  }

  /** A fixed-size value already in the window (check with has(size) first). */
  scalarSync(type: GgufValueType): GgufScalar {
    const v = this.scalarAt(type, this.pos - this.w.start);
    this.pos += FIXED_SIZE[type];
    return v;
  }

  private scalarAt(type: GgufValueType, o: number): GgufScalar {
    const b = this.w.buf;
    const le = this.le;
    switch (type) {
      case GgufValueType.UINT8: return b[o];
      case GgufValueType.INT8: return b.readInt8(o);
      case GgufValueType.BOOL: return b[o] !== 0;
      case GgufValueType.UINT16: return le ? b.readUInt16LE(o) : b.readUInt16BE(o);
      case GgufValueType.INT16: return le ? b.readInt16LE(o) : b.readInt16BE(o);
      case GgufValueType.UINT32: return le ? b.readUInt32LE(o) : b.readUInt32BE(o);
      case GgufValueType.INT32: return le ? b.readInt32LE(o) : b.readInt32BE(o);
      case GgufValueType.FLOAT32: return le ? b.readFloatLE(o) : b.readFloatBE(o);
      case GgufValueType.UINT64: return le ? b.readBigUInt64LE(o) : b.readBigUInt64BE(o);
      case GgufValueType.INT64: return le ? b.readBigInt64LE(o) : b.readBigInt64BE(o);
      case GgufValueType.FLOAT64: return le ? b.readDoubleLE(o) : b.readDoubleBE(o);
      default: throw new Error(`not a scalar type: ${type}`);
    }
  }

  private async array(what: string, depth: number): Promise<GgufArray | GgufLazyArray> {
    if (depth >= MAX_NESTING) throw new GgufError("nesting-too-deep", `${what} nests arrays deeper than ${MAX_NESTING}`, this.pos, this.w.path);
    const elementType = await this.valueType(`${what} element type`);
    const count = await this.lengthField(minValueSize(elementType), `${what} array`);
    if (count > this.options.maxMaterializedArrayLength) return this.skipArrayBody(elementType, count, what, depth);
    const values: GgufValue[] = new Array<GgufValue>(count);
    const size = FIXED_SIZE[elementType];
    if (size !== undefined) {
      // Bounded by lengthField: count * size bytes are in the file.
      if (!this.has(size * count)) await this.w.load(this.pos, size * count, what);
      for (let i = 0; i < count; i++, this.pos += size) values[i] = this.scalarAt(elementType, this.pos - this.w.start);
    } else if (elementType === GgufValueType.STRING) {
      for (let i = 0; i < count; i++) {
        if (!this.has(8)) await this.prefetch(8, what);
        // Sync only when the whole string (its own length, not a guess) is in the window.
        values[i] = this.has(8) && this.has(8 + this.peekLength()) ? this.stringSync(what) : await this.stringFast(what);
      }
    } else {
      for (let i = 0; i < count; i++) values[i] = await this.value(elementType, what, depth + 1);
    }
    return { kind: "array", elementType, values };
  }

  /** Steps over an array's elements, remembering where every CHECKPOINT_STRIDE-th one starts. */
  private async skipArrayBody(elementType: GgufValueType, count: number, what: string, depth: number): Promise<GgufLazyArray> {
    const byteOffset = this.pos;
    const size = FIXED_SIZE[elementType];
    if (size !== undefined) {
      this.pos += size * count; // bounded by lengthField
      return { kind: "lazy-array", elementType, count, byteOffset, byteLength: size * count, littleEndian: this.le, checkpointStride: CHECKPOINT_STRIDE };
    }
    const checkpoints = new Float64Array(Math.ceil(count / CHECKPOINT_STRIDE));
    const w = this.w;
    const fileSize = w.size;
    if (elementType === GgufValueType.STRING) {
      // Hot loop for vocabularies: read each length, jump over the bytes. Lengths are read byte-wise
      // (no per-call bounds checks); a length of 2^32 or more is always past the end of a real file.
      let pos = this.pos;
      const le = this.le;
      let nextCheckpoint = 0;
      for (let i = 0; i < count; i++) {
        if (i === nextCheckpoint) {
          checkpoints[i / CHECKPOINT_STRIDE] = pos;
          nextCheckpoint += CHECKPOINT_STRIDE;
          if ((i & 16383) === 0) await this.maybeYield();
        }
        if (pos + 8 > w.end || pos < w.start) await w.load(pos, 8, `${what} element ${i} length`);
        const o = pos - w.start;
        const b = w.buf;
        const lo = le ? (b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24)) >>> 0 : (b[o + 7] | (b[o + 6] << 8) | (b[o + 5] << 16) | (b[o + 4] << 24)) >>> 0;
        const hi = le ? b[o + 4] | b[o + 5] | b[o + 6] | b[o + 7] : b[o] | b[o + 1] | b[o + 2] | b[o + 3];
        if (hi !== 0 || pos + 8 + lo > fileSize) {
          throw new GgufError("length-past-eof", `${what} element ${i} length ${hi !== 0 ? "≥ 2^32" : lo} runs past the end of the file`, pos, w.path);
        }
        pos += 8 + lo;
      }
      this.pos = pos;
    } else {
      for (let i = 0; i < count; i++) {
        if (i % CHECKPOINT_STRIDE === 0) checkpoints[i / CHECKPOINT_STRIDE] = this.pos;
        await this.skipValue(elementType, what, depth + 1);
      }
    }
    return { kind: "lazy-array", elementType, count, byteOffset, byteLength: this.pos - byteOffset, littleEndian: this.le, checkpoints, checkpointStride: CHECKPOINT_STRIDE };
  }

  async skipValue(type: GgufValueType, what: string, depth: number): Promise<void> {
    const size = FIXED_SIZE[type];
    if (size !== undefined) {
      if (this.pos + size > this.w.size) throw new GgufError("truncated", `file ends inside ${what}`, this.pos, this.w.path);
      this.pos += size;
      return;
    }
    if (type === GgufValueType.STRING) {
      const len = await this.lengthField(1, what);
      this.pos += len;
      return;
    }
    if (depth >= MAX_NESTING) throw new GgufError("nesting-too-deep", `${what} nests arrays deeper than ${MAX_NESTING}`, this.pos, this.w.path);
    const elementType = await this.valueType(`${what} element type`);
    const count = await this.lengthField(minValueSize(elementType), `${what} array`);
    const fixed = FIXED_SIZE[elementType];
    if (fixed !== undefined) {
      this.pos += fixed * count;
      return;
    }
    for (let i = 0; i < count; i++) await this.skipValue(elementType, what, depth + 1);
  }
}

type GgufScalar = number | bigint | boolean | string;
