import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import type { ChartPoint } from "../../../src/shared/chartsProtocol";
import { formatAxisTicks, formatAxisValue, linearTicks, logTicks, paretoFrontier, pointsToCsv } from "../../../webview/charts/chartData";
import { RECIPE_TYPES } from "../../../src/core/quant/recipeParse";

const ROOT = path.resolve(__dirname, "../../../..");

// Stock-preset points of the tiny-llama sweep in the domain notes (bytes / mean KLD).
const SWEEP: [string, number, number][] = [
  ["Q8_0", 7345920, 0.000838], ["Q6_K", 5695232, 0.005042], ["Q5_K_M", 4990208, 0.015855], ["Q4_K_M", 4326656, 0.059401],
  ["Q4_K_S", 4224768, 0.058886], ["Q4_0", 4208384, 0.101505], ["IQ4_XS", 4028160, 0.078404], ["Q3_K_L", 3898624, 0.166809],
  ["Q3_K_M", 3685632, 0.201962], ["Q3_K_S", 3442432, 0.410602], ["Q2_K", 3036416, 1.065992],
];
const points: ChartPoint[] = SWEEP.map(([label, bytes, kld], i) => ({
  id: String(i), label, origin: "preset", quantName: `m-${label}.gguf`, bytes, bitsPerWeight: (bytes * 8) / 6.82e6, meanKld: kld,
  sameTopP: 100 - kld * 20, chunks: 48, contextSize: 256, evalName: "code-eval.txt",
}));

describe("chart data", () => {
  it("finds the Pareto frontier (Q4_0 and Q4_K_M are dominated)", () => {
    const f = paretoFrontier(points, "meanKld").map((p) => p.label);
    assert.ok(!f.includes("Q4_0"), "Q4_0 is larger and worse than IQ4_XS");
    assert.ok(!f.includes("Q4_K_M"), "Q4_K_M is larger and worse than Q4_K_S");
    assert.ok(f.includes("IQ4_XS") && f.includes("Q2_K") && f.includes("Q8_0"));
    // Along the frontier, size grows and KLD falls.
    const fp = paretoFrontier(points, "meanKld");
    for (let i = 1; i < fp.length; i++) assert.ok(fp[i].bytes > fp[i - 1].bytes && fp[i].meanKld < fp[i - 1].meanKld);
    // "Same top p" is higher-is-better.
    const t = paretoFrontier(points, "sameTopP");
    for (let i = 1; i < t.length; i++) assert.ok((t[i].sameTopP ?? 0) > (t[i - 1].sameTopP ?? 0));
  });

  it("writes CSV with a header, one row per point and the frontier flag", () => {
    const csv = pointsToCsv(points, "meanKld").trim().split("\n");
    assert.equal(csv.length, points.length + 1);
    assert.ok(csv[0].startsWith("label,origin,file,bytes"));
    const q40 = csv.find((l) => l.startsWith("Q4_0,"))?.split(",");
    assert.equal(q40?.[10], "false");
    assert.equal(csv.find((l) => l.startsWith("Q8_0,"))?.split(",")[10], "true");
  });

  it("makes readable ticks", () => {
    assert.deepEqual(linearTicks(0, 1, 5), [0, 0.2, 0.4, 0.6, 0.8, 1]);
    const lt = logTicks(0.0008, 1.1);
    assert.ok(lt.includes(0.001) && lt.includes(0.01) && lt.includes(0.1) && lt.includes(1));
  });

  it("labels size ticks with enough decimals to tell them apart, and no more", () => {
    const wide = linearTicks(3 * 1024 ** 2, 5 * 1024 ** 2);
    assert.ok(formatAxisTicks(wide, "bytes").every((l) => /^\d+\.\d{2} MiB$/.test(l)), "two decimals suffice");
    // One optimizer point at 3.8 MiB: ticks 5 kB apart, which two decimals would print as "3.81 MiB" twice.
    const narrow = linearTicks(3989248 - 12000, 3989248 + 12000);
    const labels = formatAxisTicks(narrow, "bytes");
    assert.equal(new Set(labels).size, labels.length, labels.join(" | "));
    assert.ok(labels.every((l) => /^\d+\.\d{3,4} MiB$/.test(l)), labels.join(" | "));
    assert.equal(formatAxisValue(2.5 * 1024 ** 3, "bytes"), "2.50 GiB");
    assert.equal(formatAxisValue(4.5, "bitsPerWeight"), "4.50");
  });
});

describe("recipe JSON schema", () => {
  it("lists exactly the recipe types and is contributed for *.quant.json", () => {
    const schema = JSON.parse(fs.readFileSync(path.join(ROOT, "media", "schemas", "quant-recipe.schema.json"), "utf8"));
    assert.deepEqual(schema.properties.rules.items.properties.type.enum, [...RECIPE_TYPES]);
    assert.deepEqual(schema.properties.baseType.enum, [...RECIPE_TYPES]);
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8"));
    const entry = (pkg.contributes.jsonValidation as { fileMatch: string[]; url: string }[]).find((j) => j.fileMatch.includes("*.quant.json"));
    assert.equal(entry?.url, "./media/schemas/quant-recipe.schema.json");
    // The schema's pattern rule agrees with the validator on a few patterns.
    const re = new RegExp(schema.properties.rules.items.properties.pattern.pattern);
    assert.ok(re.test("blk\\.(0|1)\\.ffn_down"));
    assert.ok(!re.test("\\S+"));
    assert.ok(!re.test("a b"));
  });
});
