// Recipe patterns are user regexes run against every tensor name, on the extension host's thread
// (recipe editor) and in the CLI. A repeated group that itself contains a repetition, such as
// `^(([a-z0-9._])+)+z$`, makes a backtracking engine take exponential time on a name that almost
// matches. Such patterns are rejected with a clear message before they are ever compiled.

interface Frame {
  /** Offset of the group's "(" in the pattern. */
  readonly open: number;
  /** The group contains a variable repetition (a quantifier with max > min), directly or nested. */
  repeats: boolean;
}

/** Upper bound of a quantifier at `i` ("*", "+", "?", "{n}", "{n,}", "{n,m}"), with its length; undefined when none. */
function quantifierAt(p: string, i: number): { min: number; max: number; length: number } | undefined {
  const c = p[i];
  let q: { min: number; max: number; length: number } | undefined;
  if (c === "*") q = { min: 0, max: Infinity, length: 1 };
  else if (c === "+") q = { min: 1, max: Infinity, length: 1 };
  else if (c === "?") q = { min: 0, max: 1, length: 1 };
  else if (c === "{") {
    const m = /^\{(\d+)(,(\d*))?\}/.exec(p.slice(i, i + 24));
    if (m) q = { min: Number(m[1]), max: m[2] === undefined ? Number(m[1]) : m[3] === "" ? Infinity : Number(m[3]), length: m[0].length };
  }
  if (q && p[i + q.length] === "?") q = { ...q, length: q.length + 1 }; // lazy
  return q;
}

/**
 * The first nested quantifier in `pattern` (a repeated group containing a repetition), as a
 * human-readable excerpt, or undefined. Linear in the pattern's length.
 */
export function nestedQuantifier(pattern: string): string | undefined {
  const stack: Frame[] = [{ open: -1, repeats: false }];
  let i = 0;
  while (i < pattern.length) {
    const c = pattern[i];
    let atomRepeats = false;
    let atomStart = i;
    if (c === "\\") i += 2;
    else if (c === "[") {
      let j = i + 1;
      if (pattern[j] === "^") j++;
      if (pattern[j] === "]") j++;
      while (j < pattern.length && pattern[j] !== "]") j += pattern[j] === "\\" ? 2 : 1;
      i = j + 1;
    } else if (c === "(") {
      stack.push({ open: i, repeats: false });
      i++;
      continue;
    } else if (c === ")") {
      const frame = stack.length > 1 ? stack.pop() : undefined;
      i++;
      if (!frame) continue;
      atomRepeats = frame.repeats;
      atomStart = frame.open;
    } else if (c === "|" || c === "^" || c === "$") {
      i++;
      continue;
    } else i++;
    const q = quantifierAt(pattern, i);
    const top = stack[stack.length - 1];
    if (q) {
      // The outer repetition may split a string among its iterations in many ways only when the
      // inner part can match a variable length.
      if (q.max > 1 && atomRepeats) return pattern.slice(atomStart, i + q.length);
      if (q.max > q.min) top.repeats = true;
      i += q.length;
    }
    if (atomRepeats) top.repeats = true;
  }
  return undefined;
}

/** The message for a pattern with a nested quantifier, or undefined when it has none. */
export function nestedQuantifierProblem(pattern: string): string | undefined {
  const excerpt = nestedQuantifier(pattern);
  return excerpt === undefined
    ? undefined
    : `pattern has a nested quantifier (${excerpt}): a repeated group that itself repeats can take exponential time to match; repeat the inner part only (e.g. [a-z0-9._]+ instead of ([a-z0-9._]+)+)`;
}
