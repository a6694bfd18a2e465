// The sparse probe design against a synthetic "true" KLD: each group has its own type curve
// (a weight error per type, as the engine measures it) and a sensitivity; the fill must recover
// the cells it never measured, and the per-kind refinement must correct kinds that cost more in
// context than alone.
import assert from "node:assert/strict";
import path from "node:path";
import { chooseTypes, groupBytes, groupTensors, type Choice, type TensorGroup } from "../../../src/core/quant/optimizer";
import { assignmentsFor } from "../../../src/core/quant/optimizerEngineRun";
import { blendSensitivity, fitSparse, rankOneFromReadings, refineByKind, referenceType, sparseProbeCount, typeProbeGroups } from "../../../src/core/quant/optimizerSparse";
import { fallbackType } from "../../../src/core/quant/recipeResolve";
import { loadRecipeModel } from "../../../src/core/quant/recipeFile";

const ROOT = path.resolve(__dirname, "../../../..");
const TYPES = ["Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K", "Q8_0"];

function rng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe("optimizer: sparse probe design", () => {
  let groups: TensorGroup[];
  before(async () => {
    groups = groupTensors((await loadRecipeModel(path.join(ROOT, "test", "fixtures", "tiny-moe-f16.gguf"))).tensors);
  });

  /** Per group: a weight-error curve with its own slope, a sensitivity, and a per-type proxy bias. */
  function world(seed: number) {
    const r = rng(seed);
    const typeBias = new Map(TYPES.map((t, i) => [t, i === 0 ? 1.6 : 1 + 0.1 * (r() - 0.5)]));
    const weightError = new Map<string, Map<string, number>>();
    const truth = new Map<string, Map<string, number>>();
    for (const g of groups) {
      const slope = 3 + 2 * r(); // error falls 3–5× per extra bit: outlier-heavy groups fall slower
      const sensitivity = 10 ** (-3 + 2 * r());
      const e = new Map(TYPES.map((t) => [t, slope ** -((groupBytes(g, t) * 8) / g.elementCount)]));
      weightError.set(g.id, e);
      truth.set(g.id, new Map(TYPES.map((t) => [t, sensitivity * (e.get(t) as number) * (typeBias.get(t) as number)])));
    }
    return { weightError, truth };
  }

  it("measures every group once at a budget-independent reference type", () => {
    assert.equal(referenceType(TYPES), "Q4_K");
    assert.equal(referenceType(["Q8_0", "Q2_K", "Q4_K"]), "Q4_K");
    assert.equal(sparseProbeCount(groups.length, TYPES.length), groups.length + 2 * (TYPES.length - 1) + 10);
  });

  it("fills unmeasured cells from the weight-error proxy and checks the fill against readings it did not use", () => {
    const { weightError, truth } = world(7);
    const ref = referenceType(TYPES);
    const readings = new Map(groups.map((g) => [g.id, new Map([[ref, truth.get(g.id)?.get(ref) as number]])]));
    const probed = typeProbeGroups(groups, new Map(groups.map((g) => [g.id, truth.get(g.id)?.get(ref) as number])));
    assert.equal(probed.length, 2);
    assert.notEqual(probed[0].id.replace(/^blk\.\d+\./, ""), probed[1].id.replace(/^blk\.\d+\./, ""), "two different kinds");
    for (const g of probed) for (const t of TYPES) readings.get(g.id)?.set(t, truth.get(g.id)?.get(t) as number);
    const fit = fitSparse(groups, TYPES, ref, readings, weightError);
    // The per-type bias of the proxy (Q2_K reads 1.6× what the weight error says) is learned.
    assert.ok(Math.abs((fit.typeCorrection.get("Q2_K") as number) / 1.6 - 1) < 0.1, `Q2_K correction ${fit.typeCorrection.get("Q2_K")}`);
    let worst = 0;
    for (const g of groups) {
      for (const t of TYPES) {
        const predicted = fit.sens.get(g.id)?.get(t) as number;
        worst = Math.max(worst, Math.abs(Math.log(predicted / (truth.get(g.id)?.get(t) as number))));
      }
    }
    assert.ok(worst < 0.1, `every cell within 10% of the truth (worst |log error| ${worst.toFixed(3)})`);
    assert.equal(fit.check.readings, 2 * (TYPES.length - 1));
    assert.ok(fit.check.medianAbsLogError < 0.1, `leave-one-out ${fit.check.medianAbsLogError}`);
  });

  it("refines per kind in context: a kind that costs more inside the recipe gets more bytes", async () => {
    const { truth } = world(11);
    const sens = truth;
    const kindOf = (id: string) => id.replace(/^blk\.\d+\./, "");
    // In context, attention output costs 3× what it costs alone (errors carried through later layers).
    const inContext = (types: ReadonlyMap<string, string>) =>
      groups.reduce((s, g) => s + (truth.get(g.id)?.get(types.get(g.id) as string) as number) * (kindOf(g.id) === "attn_output" ? 3 : 1), 0);
    const budget = groups.reduce((s, g) => s + groupBytes(g, "Q3_K"), 0);
    const initial: Choice = chooseTypes(groups, TYPES, sens, budget, 0);
    let measured = 0;
    const r = await refineByKind({
      groups, types: TYPES, sens, budgetBytes: budget, initial,
      measure: async (types) => { measured++; return inContext(types); },
    });
    assert.ok(r.evaluations <= 10 && r.evaluations === measured, `${r.evaluations} evaluations`);
    assert.ok((r.kindFactors.get("attn_output") ?? 0) > 2, `attn_output factor ${r.kindFactors.get("attn_output")}`);
    assert.ok(r.accepted, "the re-solved choice measured better");
    assert.ok(r.keptKld < r.firstKld);
    assert.ok(r.choice.bytes <= budget);
  });

  it("hedges with other sensitivity models: a wrong proxy loses to the rank-one choice when that measures better, and never the other way", async () => {
    const { truth } = world(5);
    const ref = referenceType(TYPES);
    const probed = typeProbeGroups(groups, new Map(groups.map((g) => [g.id, truth.get(g.id)?.get(ref) as number])));
    // The readings a sparse run makes: every group at the reference type, two groups at every type.
    const readings = new Map(groups.map((g) => [g.id, new Map([[ref, truth.get(g.id)?.get(ref) as number]])]));
    for (const g of probed) for (const t of TYPES) readings.get(g.id)?.set(t, truth.get(g.id)?.get(t) as number);
    const rankOne = rankOneFromReadings(groups, TYPES, ref, readings);
    for (const g of groups) {
      assert.equal(rankOne.get(g.id)?.size, TYPES.length, `${g.id}: a full curve`);
      assert.equal(rankOne.get(g.id)?.get(ref), truth.get(g.id)?.get(ref), "measured cells are kept");
    }
    // A proxy that is wrong in a way only in-context measurement can show: it inverts which groups are sensitive at low bits.
    const wrong = new Map([...truth].map(([g, c], i) => [g, new Map([...c].map(([t, v]) => [t, t === "Q2_K" || t === "Q3_K" ? v * (i % 2 ? 20 : 0.05) : v]))]));
    const budget = groups.reduce((s, g) => s + groupBytes(g, "Q3_K"), 0);
    const whole = (types: ReadonlyMap<string, string>) => groups.reduce((s, g) => s + (truth.get(g.id)?.get(types.get(g.id) as string) as number), 0);
    const initial = chooseTypes(groups, TYPES, wrong, budget, 0);
    let measured = 0;
    const r = await refineByKind({
      groups, types: TYPES, sens: wrong, budgetBytes: budget, initial,
      alternatives: [{ label: "rank-one", sens: rankOne }, { label: "blend", sens: blendSensitivity(wrong, rankOne) }],
      measure: async (types) => { measured++; return whole(types); },
    });
    assert.ok(r.evaluations <= 10 && r.evaluations === measured, `${r.evaluations} evaluations`);
    assert.ok(r.measured?.some((m) => m.label === "rank-one"), JSON.stringify(r.measured));
    const best = Math.min(...(r.measured ?? []).map((m) => m.kld));
    assert.equal(r.keptKld, best, "the kept choice is the best measured one");
    assert.equal(whole(r.choice.types), r.keptKld);
    assert.ok(r.keptKld < whole(initial.types), `the hedge fixed the wrong proxy (${r.keptKld} vs ${whole(initial.types)})`);
    assert.ok(r.choice.bytes <= budget);
    // With a right proxy, an alternative is never kept unless it measures better.
    const right = await refineByKind({
      groups, types: TYPES, sens: truth, budgetBytes: budget, initial: chooseTypes(groups, TYPES, truth, budget, 0),
      alternatives: [{ label: "rank-one", sens: rankOne }], measure: async (types) => whole(types),
    });
    assert.ok(right.keptKld <= right.firstKld);
    assert.ok(right.keptKld <= Math.min(...(right.measured ?? []).map((m) => m.kld)));
  });

  it("asks the engine for the type llama-quantize would really write when a row length cannot take the chosen one", () => {
    const odd: TensorGroup = { id: "blk.0.ffn_down", pattern: "^blk\\.0\\.ffn_down\\.weight$", elementCount: 320 * 64,
      tensors: [{ name: "blk.0.ffn_down.weight", shape: [320, 64], ggmlType: 1, elementCount: 320 * 64, layer: 0, kind: "ffn_down" }] };
    const [a] = assignmentsFor([odd], () => "Q4_K");
    assert.equal(a.type, fallbackType("Q4_K", 320));
    assert.notEqual(a.type, "Q4_K", "320 is not a multiple of Q4_K's 256-value block");
  });

  it("makes no evaluation when the measurement budget is spent", async () => {
    const { truth } = world(3);
    const budget = groups.reduce((s, g) => s + groupBytes(g, "Q4_K"), 0);
    const initial = chooseTypes(groups, TYPES, truth, budget, 0);
    const r = await refineByKind({ groups, types: TYPES, sens: truth, budgetBytes: budget, initial, measure: async () => assert.fail("measured"), mayEvaluate: () => false });
    assert.equal(r.evaluations, 0);
    assert.equal(r.choice, initial);
  });
});
