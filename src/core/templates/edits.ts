import type { TextEdit } from "./types";

/** Applies non-overlapping edits (any order) to text. Throws on overlap: a fix must be coherent. */
export function applyEdits(text: string, edits: readonly TextEdit[]): string {
  const sorted = [...edits].sort((a, b) => b.start - a.start);
  let out = text;
  let limit = Number.POSITIVE_INFINITY;
  for (const e of sorted) {
    if (e.end > limit) throw new Error("overlapping edits");
    out = out.slice(0, e.start) + e.newText + out.slice(e.end);
    limit = e.start;
  }
  return out;
}

/** Picks a non-overlapping subset of edit groups (first come, first kept) for "Fix all". */
export function nonOverlapping<T extends { readonly edits: readonly TextEdit[] }>(groups: readonly T[]): T[] {
  const taken: TextEdit[] = [];
  const kept: T[] = [];
  for (const g of groups) {
    const clash = g.edits.some((e) => taken.some((t) => e.start < t.end && t.start < e.end || (e.start === t.start && e.end === t.end)));
    if (clash) continue;
    taken.push(...g.edits);
    kept.push(g);
  }
  return kept;
}
