// The in-context refinement against a synthetic "true" KLD in which some groups cost more inside a
// full recipe than alone (the interaction the additive probes miss).
import assert from "node:assert/strict";
import path from "node:path";
import { chooseTypes, fitSensitivity, groupBytes, groupTensors, type Sensitivity, type TensorGroup } from "../../../src/core/quant/optimizer";
import { contextScale, refineChoice, scaleSensitivity, SCALE_MAX, SCALE_MIN } from "../../../src/core/quant/optimizerRefine";
import { loadRecipeModel } from "../../../src/core/quant/recipeFile";

const ROOT = path.resolve(__dirname, "../../../..");
const types = ["Q2_K", "Q3_K", "Q4_K", "Q6_K", "Q8_0"];

describe("optimizer refinement in context", () => {
  let groups: TensorGroup[];
  let sens: Sensitivity;
  /** How much more each group costs inside a full recipe than alone: early layers compound. */
  let amplification: Map<string, number>;
  before(async () => {
    groups = groupTensors((await loadRecipeModel(path.join(ROOT, "test", "fixtures", "tiny-llama-f16.gguf"))).tensors);
    sens = new Map(groups.map((g, i) => [g.id, new Map(types.map((t) => [t, (0.002 + (i % 5) * 0.003) * 4 ** -(groupBytes(g, t) * 8 / g.elementCount)]))]));
    amplification = new Map(groups.map((g) => [g.id, /^blk\.0\./.test(g.id) ? 3.5 : 1]));
  });

  /** The synthetic truth: each group's measured-alone KLD times its amplification; the source type costs nothing. */
  function trueKld(typeOf: ReadonlyMap<string, string>): number {
    let sum = 0;
    for (const g of groups) {
      const t = typeOf.get(g.id) as string;
      if (t === "F16") continue;
      sum += (sens.get(g.id)?.get(t) ?? 0) * (amplification.get(g.id) ?? 1);
    }
    return sum;
  }

  it("learns each group's amplification, re-solves within budget and lowers the true KLD", async () => {
    const budget = groups.reduce((s, g) => s + groupBytes(g, "Q3_K"), 0);
    const additive = chooseTypes(groups, types, sens, budget);
    const measured: ReadonlyMap<string, string>[] = [];
    const r = await refineChoice({
      groups, types, sens, budgetBytes: budget, initial: additive, sourceType: "F16", rounds: 2, missFactor: 0, mayEvaluate: () => true,
      measure: async (typeOf) => { measured.push(typeOf); return trueKld(typeOf); },
    });
    assert.ok(r.choice.bytes <= budget, `${r.choice.bytes} ≤ ${budget}`);
    const before = trueKld(additive.types);
    const after = trueKld(r.choice.types);
    assert.ok(after < before * 0.95, `true KLD ${before} → ${after}`);
    assert.equal(r.probeKld, after, "reports the measured KLD of the choice it returns");
    assert.ok(r.rounds[0]?.accepted, "the first round was accepted");
    assert.equal(r.evaluations, measured.length);
    // The layer-0 groups gained bytes: the amplified ones are now at least as precise as before.
    const rank = (t: string) => types.indexOf(t);
    for (const g of groups.filter((x) => x.id.startsWith("blk.0."))) {
      assert.ok(rank(r.choice.types.get(g.id) as string) >= rank(additive.types.get(g.id) as string), g.id);
    }
    assert.ok(groups.some((g) => g.id.startsWith("blk.0.") && rank(r.choice.types.get(g.id) as string) > rank(additive.types.get(g.id) as string)));
  });

  it("does not refine when the whole recipe measures as predicted", async () => {
    amplification = new Map(groups.map((g) => [g.id, 1]));
    const budget = groups.reduce((s, g) => s + groupBytes(g, "Q4_K"), 0);
    const additive = chooseTypes(groups, types, sens, budget);
    const r = await refineChoice({
      groups, types, sens, budgetBytes: budget, initial: additive, sourceType: "F16", rounds: 2, mayEvaluate: () => true,
      measure: async (typeOf) => trueKld(typeOf),
    });
    assert.equal(r.predictionHeld, true);
    assert.equal(r.evaluations, 1);
    assert.deepEqual(r.rounds, []);
    assert.equal(r.choice, additive);
  });

  it("gains nothing, and loses nothing, when the world is additive", async () => {
    amplification = new Map(groups.map((g) => [g.id, 1]));
    const budget = groups.reduce((s, g) => s + groupBytes(g, "Q4_K"), 0);
    const additive = chooseTypes(groups, types, sens, budget);
    const r = await refineChoice({
      groups, types, sens, budgetBytes: budget, initial: additive, sourceType: "F16", rounds: 2, missFactor: 0, mayEvaluate: () => true,
      measure: async (typeOf) => trueKld(typeOf),
    });
    // Every scale is 1 (up to rounding), so the re-solved choice is the knapsack optimum again.
    assert.ok(Math.abs(trueKld(r.choice.types) - trueKld(additive.types)) <= 1e-12, `${trueKld(r.choice.types)} vs ${trueKld(additive.types)}`);
    assert.ok(r.choice.bytes <= budget);
  });

  it("never keeps a re-solved choice that measures worse", async () => {
    amplification = new Map(groups.map((g, i) => [g.id, 1 + (i % 3)]));
    const budget = groups.reduce((s, g) => s + groupBytes(g, "Q3_K"), 0);
    const additive = chooseTypes(groups, types, sens, budget);
    // A measurement that lies: every full recipe other than the first one reads as much worse.
    let first = true;
    const r = await refineChoice({
      groups, types, sens, budgetBytes: budget, initial: additive, sourceType: "F16", rounds: 2, missFactor: 0, mayEvaluate: () => true,
      measure: async (typeOf) => {
        const isCandidate = !first && [...typeOf.values()].every((t) => t !== "F16");
        first = false;
        return trueKld(typeOf) * (isCandidate ? 10 : 1);
      },
    });
    assert.deepEqual([...r.choice.types], [...additive.types]);
    assert.equal(r.rounds[0].accepted, false);
    assert.ok(r.rounds[0].toKld !== undefined && r.rounds[0].toKld > r.rounds[0].fromKld);
  });

  it("stops when the evaluation budget is spent and never returns an unmeasured change", async () => {
    const budget = groups.reduce((s, g) => s + groupBytes(g, "Q3_K"), 0);
    const additive = chooseTypes(groups, types, sens, budget);
    let left = 3;
    const r = await refineChoice({
      groups, types, sens, budgetBytes: budget, initial: additive, sourceType: "F16", rounds: 2, missFactor: 0, mayEvaluate: () => left-- > 0,
      measure: async (typeOf) => trueKld(typeOf),
    });
    assert.equal(r.evaluations, 3);
    assert.deepEqual([...r.choice.types], [...additive.types], "a re-solved choice is only taken after it was measured");
    const none = await refineChoice({
      groups, types, sens, budgetBytes: budget, initial: additive, sourceType: "F16", rounds: 2, missFactor: 0, mayEvaluate: () => false,
      measure: async () => { throw new Error("must not measure"); },
    });
    assert.ok(Number.isNaN(none.probeKld));
  });

  it("clamps scales and gives unmeasured groups the median", () => {
    assert.equal(contextScale(100, 1), SCALE_MAX);
    assert.equal(contextScale(-1, 1), SCALE_MIN);
    assert.equal(contextScale(1, 0), undefined);
    const scaled = scaleSensitivity(new Map([["a", new Map([["Q4_K", 1]])], ["b", new Map([["Q4_K", 1]])], ["c", new Map([["Q4_K", 2]])]]), new Map([["a", 2], ["b", 3]]));
    assert.equal(scaled.get("a")?.get("Q4_K"), 2);
    assert.equal(scaled.get("c")?.get("Q4_K"), 5, "median of 2 and 3 is 2.5");
  });
});

describe("optimizer: pooling probe readings (rank-one model)", () => {
  const groupsIds = Array.from({ length: 24 }, (_, i) => `blk.${i >> 2}.kind${i & 3}`);
  const typeError: Record<string, number> = { Q2_K: 1, Q3_K: 0.3, Q4_K: 0.08, Q5_K: 0.02, Q6_K: 0.005 };
  const truth = (g: number, t: string) => (0.001 + 0.01 * ((g * 7) % 11) / 11) * typeError[t];

  it("recovers an exact rank-one table", () => {
    const sens = new Map(groupsIds.map((id, g) => [id, new Map(Object.keys(typeError).map((t) => [t, truth(g, t)]))]));
    const fitted = fitSensitivity(sens);
    for (const [id, curve] of fitted) for (const [t, v] of curve) assert.ok(Math.abs(v / (sens.get(id)?.get(t) as number) - 1) < 1e-6, `${id} ${t}`);
  });

  it("is closer to the truth than readings with slice-to-slice variation, and keeps placeholders and absent types", () => {
    let seed = 7;
    const uniform = () => { seed = (seed * 1103515245 + 12345) % 2 ** 31; return seed / 2 ** 31; };
    // Each reading off by a random factor (log-normal-ish, about ×1.8 either way), as one text slice reads.
    const reading = (v: number) => v * Math.exp(1.2 * (uniform() + uniform() + uniform() - 1.5));
    const sens = new Map(groupsIds.map((id, g) => [id, new Map(Object.keys(typeError).map((t) => [t, reading(truth(g, t))]))]));
    const error = (s: Sensitivity) => groupsIds.reduce((sum, id, g) => sum + Object.keys(typeError).reduce((x, t) => {
      const v = s.get(id)?.get(t);
      return v === undefined || v > 1e3 ? x : x + Math.abs(Math.log(v / truth(g, t)));
    }, 0), 0);
    const rawError = error(sens);
    sens.get(groupsIds[0])?.set("Q2_K", Number.MAX_SAFE_INTEGER);
    sens.get(groupsIds[1])?.delete("Q3_K");
    const fitted = fitSensitivity(sens);
    assert.ok(error(fitted) < rawError / 1.4, `log error fitted ${error(fitted)} vs raw ${rawError}`);
    assert.equal(fitted.get(groupsIds[0])?.get("Q2_K"), Number.MAX_SAFE_INTEGER);
    assert.equal(fitted.get(groupsIds[1])?.has("Q3_K"), false);
  });
});
