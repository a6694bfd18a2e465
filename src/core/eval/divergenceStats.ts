// Greedy divergence (Unsloth's "Divergence@N"): base and quant greedy-decode N tokens from the same
// prompts; how often all N agree, how long the agreeing prefix is, where they part.

export interface DivergenceStats {
  readonly prompts: number;
  readonly tokens: number;
  /** Prompts whose N tokens all match, percent. */
  readonly exactMatchPercent: number;
  /** Mean length of the matching prefix, in tokens (N for a full match). */
  readonly meanMatchingPrefix: number;
  /** firstDivergence[i]: prompts whose first differing token is at position i (0-based). */
  readonly firstDivergence: readonly number[];
}

/**
 * Length of the common prefix of two greedy continuations. Both end early only at end-of-generation;
 * two identical shorter continuations are a full match (the runs agree on everything they produce).
 */
export function matchingPrefix(base: readonly number[], quant: readonly number[], tokens: number): number {
  const n = Math.min(base.length, quant.length, tokens);
  for (let i = 0; i < n; i++) if (base[i] !== quant[i]) return i;
  if (base.length === quant.length || n === tokens) return tokens;
  return n;
}

export function divergenceStats(base: readonly (readonly number[])[], quant: readonly (readonly number[])[], tokens: number): DivergenceStats {
  if (base.length !== quant.length) throw new Error(`base has ${base.length} continuations, the quant ${quant.length}`);
  const firstDivergence = new Array<number>(tokens).fill(0);
  let exact = 0;
  let sum = 0;
  for (let i = 0; i < base.length; i++) {
    const m = matchingPrefix(base[i], quant[i], tokens);
    sum += m;
    if (m >= tokens) exact++;
    else firstDivergence[m]++;
  }
  const p = base.length;
  return { prompts: p, tokens, exactMatchPercent: p > 0 ? (100 * exact) / p : 0, meanMatchingPrefix: p > 0 ? sum / p : 0, firstDivergence };
}
