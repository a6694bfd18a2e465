// Size-budgeted recipe search, the pure part: tensor groups, candidate types, budgets and the
// choice of one type per group that minimizes predicted KLD under a byte budget.
//
// What drives it (honestly): measured sensitivities. optimizerRun.ts quantizes ONE group at ONE
// type with everything else left at the base precision, and measures the KLD that adds on a short
// held-out slice. The prediction for a recipe is the sum of its groups' measured KLDs (an additive
// model; interactions are ignored, which is why the result is verified with a real run).
// The choice is a multiple-choice knapsack, solved exactly (up to a byte rounding that never
// exceeds the budget) by dynamic programming, then a greedy pass spends the rounding leftovers.
import { keptReason, typedBytes, fallbackType } from "./recipeResolve";
import { literalPattern } from "./recipeCompile";
import type { QuantRecipe, RecipeRule, RecipeTensor } from "./recipeTypes";
import { RECIPE_FORMAT_VERSION } from "./recipeTypes";

export interface TensorGroup {
  /** "blk.3.ffn_down" or "token_embd". */
  readonly id: string;
  readonly tensors: readonly RecipeTensor[];
  /** Anchored regex matching exactly this group's tensors. */
  readonly pattern: string;
  readonly elementCount: number;
}

/** One group per (layer, kind) and one per non-layer tensor; tensors llama-quantize keeps are left out. */
export function groupTensors(tensors: readonly RecipeTensor[]): TensorGroup[] {
  const byId = new Map<string, RecipeTensor[]>();
  for (const t of tensors) {
    if (keptReason(t.name, t.shape)) continue;
    const id = t.name.replace(/\.weight$/, "");
    const groupId = t.layer !== undefined ? id : id;
    byId.set(groupId, [...(byId.get(groupId) ?? []), t]);
  }
  return [...byId.entries()].map(([id, ts]) => ({
    id, tensors: ts,
    pattern: ts.length === 1 ? `^${literalPattern(ts[0].name)}$` : `^(${ts.map((t) => literalPattern(t.name)).join("|")})$`,
    elementCount: ts.reduce((s, t) => s + t.elementCount, 0),
  }));
}

export function groupBytes(group: TensorGroup, type: string): number {
  return group.tensors.reduce((s, t) => s + typedBytes(fallbackType(type, t.shape[0]), t.elementCount, t.shape[0]), 0);
}

/** Candidate ladders, small to large. */
export const CANDIDATES_WITH_IMATRIX = ["IQ2_XXS", "IQ2_S", "IQ3_XXS", "Q3_K", "IQ4_XS", "Q5_K", "Q6_K", "Q8_0"] as const;
export const CANDIDATES_WITHOUT_IMATRIX = ["Q2_K", "Q3_K", "IQ4_XS", "Q4_K", "Q5_K", "Q6_K", "Q8_0"] as const;

export function candidateTypes(hasImatrix: boolean): string[] {
  return [...(hasImatrix ? CANDIDATES_WITH_IMATRIX : CANDIDATES_WITHOUT_IMATRIX)];
}

export type Budget = { readonly kind: "bytes"; readonly bytes: number } | { readonly kind: "bpw"; readonly bitsPerWeight: number };

export class BudgetError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "BudgetError";
  }
}

/** "4326656", "4.3MB", "2.5GB", "3.1GiB", "4.5bpw". GB = 1e9 bytes, GiB = 2^30. */
export function parseBudget(text: string): Budget {
  const m = /^\s*([\d.]+)\s*(bpw|b|kb|mb|gb|kib|mib|gib)?\s*$/i.exec(text);
  if (!m || !Number.isFinite(Number(m[1])) || Number(m[1]) <= 0) {
    throw new BudgetError(`cannot read the budget "${text}": use bytes (4326656), a size (3.5GB, 3.2GiB) or bits per weight (4.5bpw)`);
  }
  const v = Number(m[1]);
  const unit = (m[2] ?? "b").toLowerCase();
  if (unit === "bpw") return { kind: "bpw", bitsPerWeight: v };
  const mult: Record<string, number> = { b: 1, kb: 1e3, mb: 1e6, gb: 1e9, kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3 };
  return { kind: "bytes", bytes: Math.floor(v * mult[unit]) };
}

/** Measured extra KLD of a group at a type (others at base precision). */
export type Sensitivity = ReadonlyMap<string, ReadonlyMap<string, number>>;

/**
 * Pools all probes into a rank-one model, KLD(group, type) ≈ A_group · D_type: how sensitive the
 * output is to a group, times how much error a type puts into weights. One probe reads one text
 * slice, and a precise type adds so little KLD that its reading varies by a factor of ~2 from slice
 * to slice (on tiny-moe, 4-chunk readings at Q5_K/Q6_K were off by ×2.0 on average from 12-chunk
 * ones; Q6_K often read above Q5_K). The model estimates each group's A from all its types and
 * each type's D from all groups. Fitted in log space by alternating weighted least squares, each
 * reading weighted by √value (larger readings vary less; √ beat weights 1 and value at predicting
 * 12-chunk readings from 4-chunk ones). Types a group was not measured at stay absent.
 */
export function fitSensitivity(sens: Sensitivity): Sensitivity {
  const cells: { g: string; t: string; y: number; w: number }[] = [];
  // Readings only: placeholders for unmeasured cells (huge, see fillUnmeasured) are kept as they are.
  const isReading = (v: number) => v > 0 && v < 1e3;
  for (const [g, curve] of sens) for (const [t, v] of curve) if (isReading(v)) cells.push({ g, t, y: Math.log(v), w: Math.sqrt(v) });
  if (cells.length === 0) return sens;
  const a = new Map<string, number>();
  const d = new Map<string, number>(cells.map((c) => [c.t, 0]));
  const solve = (key: "g" | "t", other: Map<string, number>, into: Map<string, number>, otherKey: "g" | "t") => {
    const num = new Map<string, number>();
    const den = new Map<string, number>();
    for (const c of cells) {
      num.set(c[key], (num.get(c[key]) ?? 0) + c.w * (c.y - (other.get(c[otherKey]) ?? 0)));
      den.set(c[key], (den.get(c[key]) ?? 0) + c.w);
    }
    for (const [k, n] of num) into.set(k, n / (den.get(k) as number));
  };
  for (let i = 0; i < 100; i++) {
    solve("g", d, a, "t");
    solve("t", a, d, "g");
  }
  return new Map([...sens].map(([g, curve]) => [g, new Map([...curve].map(([t, v]) => {
    const ag = a.get(g);
    const dt = d.get(t);
    return [t, ag === undefined || dt === undefined || !isReading(v) ? v : Math.exp(ag + dt)];
  }))]));
}

export interface Choice {
  readonly types: ReadonlyMap<string, string>;
  readonly bytes: number;
  readonly predictedKld: number;
}

interface Option { readonly type: string; readonly bytes: number; readonly kld: number }

/**
 * Cleans noisy measurements: negative values become 0 and KLD never increases with more bytes
 * (a larger type cannot be worse in expectation; an upward blip is noise on a tiny number).
 */
export function monotoneOptions(group: TensorGroup, types: readonly string[], sens: ReadonlyMap<string, number>): Option[] {
  const opts = types
    .filter((t) => sens.has(t))
    .map((t) => ({ type: t, bytes: groupBytes(group, t), kld: Math.max(0, sens.get(t) ?? 0) }))
    .sort((a, b) => a.bytes - b.bytes || a.kld - b.kld);
  const out: Option[] = [];
  for (let i = opts.length - 1; i >= 0; i--) {
    const next = out[0];
    const kld = next ? Math.max(opts[i].kld, next.kld) : opts[i].kld;
    out.unshift({ ...opts[i], kld });
  }
  // Same bytes: keep the better one only.
  return out.filter((o, i) => i === out.length - 1 || out[i + 1].bytes !== o.bytes || o.kld < out[i + 1].kld);
}

/**
 * Picks one type per group with Σ bytes ≤ budgetBytes (tensor bytes) minimizing Σ measured KLD.
 * `fixedBytes` counts what no choice changes (kept tensors).
 */
export function chooseTypes(groups: readonly TensorGroup[], types: readonly string[], sens: Sensitivity, budgetBytes: number, fixedBytes = 0): Choice {
  const options = new Map<string, Option[]>();
  for (const g of groups) {
    const o = monotoneOptions(g, types, sens.get(g.id) ?? new Map());
    if (o.length === 0) throw new BudgetError(`no measurements for group ${g.id}`);
    options.set(g.id, o);
  }
  const minBytes = fixedBytes + groups.reduce((s, g) => s + (options.get(g.id) as Option[])[0].bytes, 0);
  if (minBytes > budgetBytes) {
    throw new BudgetError(`the budget of ${budgetBytes} bytes is below the smallest possible size (${minBytes} bytes with every group at its smallest candidate type)`);
  }
  // Exact multiple-choice knapsack by dynamic programming over the bytes above each group's
  // cheapest option, in units small enough to lose little (costs round UP: never over budget).
  const ids = [...options.keys()];
  const maxCells = 5e7;
  const capacityBytes = budgetBytes - minBytes;
  const resolution = Math.max(1, Math.min(20000, Math.floor(maxCells / Math.max(1, ids.length))));
  const unit = Math.max(1, Math.ceil(capacityBytes / resolution));
  const capacity = Math.floor(capacityBytes / unit);
  let dp = new Float64Array(capacity + 1);
  const pickIdx = ids.map(() => new Uint8Array(capacity + 1));
  ids.forEach((id, gi) => {
    const opts = options.get(id) as Option[];
    const base = opts[0].bytes;
    const next = new Float64Array(capacity + 1).fill(Infinity);
    const choice = pickIdx[gi];
    for (let oi = 0; oi < opts.length; oi++) {
      const cost = Math.ceil((opts[oi].bytes - base) / unit);
      const k = opts[oi].kld;
      for (let c = cost; c <= capacity; c++) {
        const v = dp[c - cost] + k;
        if (v < next[c]) { next[c] = v; choice[c] = oi; }
      }
    }
    dp = next;
  });
  const pick = new Map<string, Option>();
  let c = capacity;
  let bytes = fixedBytes;
  for (let gi = ids.length - 1; gi >= 0; gi--) {
    const opts = options.get(ids[gi]) as Option[];
    const o = opts[pickIdx[gi][c]];
    pick.set(ids[gi], o);
    bytes += o.bytes;
    c -= Math.ceil((o.bytes - opts[0].bytes) / unit);
  }
  // Rounding left some bytes unused: spend them on the best KLD-per-byte upgrades.
  for (let improved = true; improved; ) {
    improved = false;
    let best: { id: string; to: Option; gain: number } | undefined;
    for (const [id, opts] of options) {
      const cur = pick.get(id) as Option;
      for (const o of opts) {
        const cost = o.bytes - cur.bytes;
        const gain = cur.kld - o.kld;
        if (gain > 0 && cost > 0 && bytes + cost <= budgetBytes && (!best || gain / cost > best.gain)) best = { id, to: o, gain: gain / cost };
      }
    }
    if (best) {
      bytes += best.to.bytes - (pick.get(best.id) as Option).bytes;
      pick.set(best.id, best.to);
      improved = true;
    }
  }
  return {
    types: new Map([...pick].map(([id, o]) => [id, o.type])),
    bytes,
    predictedKld: [...pick.values()].reduce((s, o) => s + o.kld, 0),
  };
}

/** A recipe that gives each group its chosen type; the most common type becomes the base. */
export function recipeFromChoice(groups: readonly TensorGroup[], choice: Choice, name: string, generatedBy: Record<string, unknown>): QuantRecipe {
  const counts = new Map<string, number>();
  for (const g of groups) {
    const t = choice.types.get(g.id) as string;
    counts.set(t, (counts.get(t) ?? 0) + g.elementCount);
  }
  const baseType = [...counts].sort((a, b) => b[1] - a[1])[0][0];
  // Group rules by (kind, type) so the recipe stays readable: "^blk\.(0|5)\.ffn_down\.weight$".
  const byKindType = new Map<string, { layers: number[]; type: string; kind: string; names: string[] }>();
  for (const g of groups) {
    const type = choice.types.get(g.id) as string;
    if (type === baseType) continue;
    for (const t of g.tensors) {
      const m = /^blk\.(\d+)\.(.+)$/.exec(t.name);
      const key = m ? `${m[2]}|${type}` : `${t.name}|${type}`;
      const e = byKindType.get(key) ?? { layers: [], type, kind: m ? m[2] : t.name, names: [] };
      if (m) e.layers.push(Number(m[1]));
      else e.names.push(t.name);
      byKindType.set(key, e);
    }
  }
  const rules: RecipeRule[] = [];
  for (const e of byKindType.values()) {
    if (e.names.length > 0) {
      rules.push({ pattern: `^${literalPattern(e.kind)}$`, type: e.type });
    } else {
      const layers = [...new Set(e.layers)].sort((a, b) => a - b);
      rules.push({ pattern: `^blk\\.${layers.length === 1 ? layers[0] : `(${layers.join("|")})`}\\.${literalPattern(e.kind)}$`, type: e.type });
    }
  }
  return { version: RECIPE_FORMAT_VERSION, name, baseType, rules, generatedBy };
}
