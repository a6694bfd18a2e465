// Linear-time structure of a scanned template's code, for rules that would otherwise need regexes
// with nested or adjacent quantifiers (catastrophic backtracking on crafted input runs on the
// extension host's thread): matching brackets inside each tag with their top-level commas and
// colons, operand chains (`a.b[0].c`) found by walking back over them, and the tag at an offset.
// Every function here is O(n) over the template, or O(log n) per query.
import type { CodeTag, ScannedTemplate, StringLiteral } from "./scanner";

export interface Bracket {
  readonly open: number;
  /** Offset of the matching closing bracket. */
  readonly close: number;
  readonly char: "(" | "[" | "{";
  /** Offsets of commas and colons directly inside this bracket (not inside nested ones). */
  readonly commas: readonly number[];
  readonly colons: readonly number[];
}

export interface CodeStructure {
  /** Bracket by the offset of its opening character. */
  readonly byOpen: ReadonlyMap<number, Bracket>;
  /** Bracket by the offset of its closing character. */
  readonly byClose: ReadonlyMap<number, Bracket>;
  /** String literal by the offset of its opening quote. */
  readonly stringAt: ReadonlyMap<number, StringLiteral>;
}

const CLOSERS: Record<string, "(" | "[" | "{"> = { ")": "(", "]": "[", "}": "{" };
const structures = new WeakMap<ScannedTemplate, CodeStructure>();

/** Brackets are matched within one tag: an unclosed one never pairs with a bracket of another tag. */
export function codeStructure(s: ScannedTemplate): CodeStructure {
  const cached = structures.get(s);
  if (cached) return cached;
  const byOpen = new Map<number, Bracket>();
  const byClose = new Map<number, Bracket>();
  for (const tag of s.tags) {
    const stack: { open: number; char: "(" | "[" | "{"; commas: number[]; colons: number[] }[] = [];
    for (let i = tag.innerStart; i < tag.innerEnd; i++) {
      const c = s.code[i];
      if (c === "(" || c === "[" || c === "{") stack.push({ open: i, char: c, commas: [], colons: [] });
      else if (c === ")" || c === "]" || c === "}") {
        const want = CLOSERS[c];
        // Pop to the nearest bracket of the same kind; unbalanced inner ones are dropped.
        let k = stack.length - 1;
        while (k >= 0 && stack[k].char !== want) k--;
        if (k < 0) continue;
        const top = stack[k];
        stack.length = k;
        const b: Bracket = { open: top.open, close: i, char: top.char, commas: top.commas, colons: top.colons };
        byOpen.set(b.open, b);
        byClose.set(b.close, b);
      } else if (c === "," && stack.length > 0) stack[stack.length - 1].commas.push(i);
      else if (c === ":" && stack.length > 0) stack[stack.length - 1].colons.push(i);
    }
  }
  const stringAt = new Map(s.strings.map((x) => [x.start, x]));
  const out = { byOpen, byClose, stringAt };
  structures.set(s, out);
  return out;
}

const isWord = (c: string | undefined) => c !== undefined && /[\w.]/.test(c);

/**
 * Start of the operand chain that ends at `end` (exclusive): identifiers, dots and bracketed
 * subscripts (`messages[0].content`). Returns `end` when there is none. Each bracket is jumped
 * in O(1), and the walk stops at the first other character.
 */
export function operandStart(s: ScannedTemplate, end: number): number {
  const { byClose } = codeStructure(s);
  let i = end;
  while (i > 0) {
    const c = s.code[i - 1];
    if (c === "]") {
      const b = byClose.get(i - 1);
      if (!b || b.char !== "[") break;
      i = b.open;
    } else if (isWord(c)) i--;
    else break;
  }
  // An operand starts with an identifier character, not a dot or a digit.
  while (i < end && !/[A-Za-z_]/.test(s.code[i])) {
    if (s.code[i] === "[") return end;
    i++;
  }
  return i;
}

/** Arguments of a call/subscript bracket as trimmed source ranges (empty list for `()`). */
export function bracketArguments(s: ScannedTemplate, b: Bracket): { start: number; end: number; text: string }[] {
  const cuts = [b.open, ...b.commas, b.close];
  const out: { start: number; end: number; text: string }[] = [];
  for (let k = 0; k + 1 < cuts.length; k++) {
    let a = cuts[k] + 1;
    let z = cuts[k + 1];
    while (a < z && /\s/.test(s.text[a])) a++;
    while (z > a && /\s/.test(s.text[z - 1])) z--;
    out.push({ start: a, end: z, text: s.text.slice(a, z) });
  }
  return out.length === 1 && out[0].text === "" ? [] : out;
}

/** Index of the tag containing `offset`, or -1 (binary search; tags are sorted and disjoint). */
export function tagIndexContaining(s: ScannedTemplate, offset: number): number {
  let lo = 0;
  let hi = s.tags.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const t = s.tags[mid];
    if (offset < t.start) hi = mid - 1;
    else if (offset >= t.end) lo = mid + 1;
    else return mid;
  }
  return -1;
}

/** The tag containing `offset`. */
export function tagAt(s: ScannedTemplate, offset: number): CodeTag | undefined {
  const i = tagIndexContaining(s, offset);
  return i >= 0 ? s.tags[i] : undefined;
}

/** Whether only whitespace lies between two offsets of the template text. */
export function onlyWhitespaceBetween(text: string, a: number, b: number): boolean {
  for (let i = a; i < b; i++) if (!/\s/.test(text[i])) return false;
  return true;
}

/** The string literal an argument consists of, if it is exactly one. */
export function literalArgument(s: ScannedTemplate, arg: { start: number; end: number }): StringLiteral | undefined {
  const lit = codeStructure(s).stringAt.get(arg.start);
  return lit && lit.end === arg.end ? lit : undefined;
}
