// Pages through an array the reader left on disk (GgufLazyArray), e.g. a 262k-token vocabulary
// shown in the inspector: only the requested slice is read and decoded.
import { GgufError } from "./errors";
import { FileWindow } from "./fileWindow";
import { GgufLazyArray, GgufValue, GgufValueType } from "./types";
import { fixedValueSize, ValueDecoder } from "./valueDecoder";

/** Elements [start, start+count) of a lazy array (clamped to its length). */
export async function readArrayPage(path: string, array: GgufLazyArray, start: number, count: number): Promise<GgufValue[]> {
  const w = await FileWindow.open(path);
  try {
    return await readArrayPageFrom(w, array, start, count);
  } finally {
    await w.close();
  }
}

/** Same as readArrayPage on an already open window (lets a pager keep the file open). */
export async function readArrayPageFrom(w: FileWindow, array: GgufLazyArray, start: number, count: number): Promise<GgufValue[]> {
  if (!Number.isInteger(start) || !Number.isInteger(count) || start < 0 || count < 0) {
    throw new GgufError("value-out-of-range", `bad page request: start ${start}, count ${count}`);
  }
  const end = Math.min(array.count, start + count);
  if (start >= end) return [];
  if (array.byteOffset + array.byteLength > w.size) {
    throw new GgufError("truncated", "the file is shorter than when it was read", array.byteOffset, w.path);
  }
  const d = new ValueDecoder(w, array.littleEndian, { maxMaterializedArrayLength: Infinity });
  const size = fixedValueSize(array.elementType);
  let index: number;
  if (size !== undefined) {
    d.pos = array.byteOffset + start * size;
    index = start;
  } else {
    const checkpoint = Math.floor(start / array.checkpointStride);
    if (!array.checkpoints || checkpoint >= array.checkpoints.length) {
      throw new GgufError("value-out-of-range", "lazy array has no checkpoint for this page", array.byteOffset, w.path);
    }
    d.pos = array.checkpoints[checkpoint];
    index = checkpoint * array.checkpointStride;
    for (; index < start; index++) await d.skipValue(array.elementType, "array element", 1);
  }
  const out: GgufValue[] = [];
  if (array.elementType === GgufValueType.STRING) {
    // A vocabulary: decode in place while the window holds the strings (no promise per element).
    for (; index < end; index++) out.push(d.tryStringSync("array element") ?? (await d.stringFast(`array element ${index}`)));
    return out;
  }
  for (; index < end; index++) out.push(await d.value(array.elementType, `array element ${index}`, 1));
  return out;
}

/** Keeps one file open for many page reads (an inspector scrolling a vocabulary). */
export class GgufArrayPager {
  private constructor(private readonly w: FileWindow) {}
  static async open(path: string): Promise<GgufArrayPager> {
    return new GgufArrayPager(await FileWindow.open(path));
  }
  page(array: GgufLazyArray, start: number, count: number): Promise<GgufValue[]> {
    return readArrayPageFrom(this.w, array, start, count);
  }
  close(): Promise<void> {
    return this.w.close();
  }
}
