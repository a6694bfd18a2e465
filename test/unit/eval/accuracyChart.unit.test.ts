// The chart's join of KLD, accuracy and divergence results per quant, its new metrics and the
// efficiency ranking (pure parts; the real-host test draws them).
import assert from "node:assert/strict";
import type { AccuracyResultRecord, DivergenceResultRecord } from "../../../src/core/eval/accuracyRecords";
import { accuracyOf, flipsAgainst, type QuestionOutcome } from "../../../src/core/eval/accuracyStats";
import { divergenceStats } from "../../../src/core/eval/divergenceStats";
import { evalSummaryFor, joinedChartPoints } from "../../../src/core/eval/resultsJoin";
import type { KldResultRecord, KldResultsFile } from "../../../src/core/eval/resultsStore";
import { paretoFrontier, pointsToCsv } from "../../../webview/charts/chartData";
import { efficiencyRanking } from "../../../webview/charts/efficiencyBars";

const outcomes = (chosen: string, answers = "ABCDABCDAB"): QuestionOutcome[] =>
  [...chosen].map((c, i) => ({ id: `s#${i}`, subject: "s", choiceCount: 4, answer: "ABCD".indexOf(answers[i]), chosen: "ABCD".indexOf(c) }));

function accuracyRecord(name: string, fp: string, bytes: number, chosen: string, base: string | undefined, createdAt: string, setFingerprint = "set1"): AccuracyResultRecord {
  const acc = accuracyOf(outcomes(chosen));
  return {
    id: `${name}-${createdAt}`, quantPath: `/m/${name}`, quantName: name, quantFingerprint: fp, quantBytes: bytes, bitsPerWeight: 4, isBase: base === undefined,
    setPath: "/s.jsonl", setFingerprint, shots: 5, format: "raw", accuracy: acc, subjects: [], chance: 25, efficiency: (acc.accuracy - 25) / (bytes / 1e9),
    ...(base !== undefined ? { flips: flipsAgainst(outcomes(base), outcomes(chosen)) } : {}),
    chosen, runtimeVersion: "node-llama-cpp test", commandLine: "gguf-studio eval mc …", createdAt, durationMs: 1, questionsPerSecond: 1,
  };
}

describe("accuracy and divergence on the KLD chart", () => {
  const base: KldResultsFile["base"] = { path: "/m/base.gguf", name: "base.gguf", fingerprint: "fp-base", bytes: 2e9, bitsPerWeight: 16 };
  const kld: KldResultRecord = {
    id: "k1", quantPath: "/m/model-Q4_K_M.gguf", quantName: "model-Q4_K_M.gguf", quantFingerprint: "fp-q4", quantBytes: 5e8, bitsPerWeight: 4.9, label: "Q4_K_M", origin: "preset",
    evalPath: "/e.txt", evalFingerprint: "e", contextSize: 256, chunks: 8, toolVersion: "t", commandLine: "c", createdAt: "2026-01-01T00:00:00Z", durationMs: 1,
    summary: { meanKld: { value: 0.05, error: 0.001 } }, sections: {},
  } as unknown as KldResultRecord;
  const baseChosen = "ABCDABCDAA"; // 9/10
  const divergence: DivergenceResultRecord = {
    id: "d1", quantPath: "/m/model-Q4_K_M.gguf", quantName: "model-Q4_K_M.gguf", quantFingerprint: "fp-q4", quantBytes: 5e8, bitsPerWeight: 4.9,
    promptsPath: "/p.jsonl", promptsFingerprint: "p", tokens: 4, stats: divergenceStats([[1, 2, 3, 4], [1, 1, 1, 1]], [[1, 2, 3, 4], [1, 2, 1, 1]], 4),
    runtimeVersion: "r", commandLine: "c", createdAt: "2026-01-02T00:00:00Z", durationMs: 1,
  };
  const data: KldResultsFile = {
    version: 1, base, results: [kld], divergence: [divergence],
    accuracy: [
      accuracyRecord("base.gguf", "fp-base", 2e9, baseChosen, undefined, "2026-01-03T00:00:00Z"),
      accuracyRecord("model-Q4_K_M.gguf", "fp-q4", 5e8, "ABCDABCBAB", baseChosen, "2026-01-03T00:01:00Z"),
      // An older run on another set: not comparable with the base's latest run, left out.
      accuracyRecord("model-Q4_K_M.gguf", "fp-q4", 5e8, "DDDDDDDDDD", baseChosen, "2026-01-01T00:00:00Z", "old-set"),
      accuracyRecord("model-Q2_K.gguf", "fp-q2", 3e8, "ABCAABCDDD", baseChosen, "2026-01-03T00:02:00Z"),
    ],
  };

  it("joins each quant's latest comparable accuracy and divergence to its KLD point; accuracy-only quants and the base become points", () => {
    const points = joinedChartPoints(data);
    const q4 = points.find((p) => p.label === "Q4_K_M");
    assert.equal(q4?.meanKld, 0.05);
    assert.equal(q4?.accuracy, 90);
    assert.equal(q4?.flipsPercent, 20, "question 7 right→wrong and question 9 wrong→right: same accuracy, 20% flipped");
    assert.equal(q4?.efficiency, (90 - 25) / 0.5);
    assert.equal(q4?.divergence, 50);
    assert.equal(q4?.divergenceTokens, 4);
    const q2 = points.find((p) => p.label === "Q2_K");
    assert.ok(q2 && Number.isNaN(q2.meanKld));
    assert.equal(q2.accuracy, 70);
    const b = points.find((p) => p.label === "base");
    assert.equal(b?.accuracy, 90);
    assert.equal(b?.flipsPercent, undefined);
  });

  it("ranks efficiency, draws the new metrics' Pareto frontier and exports them as CSV", () => {
    const points = joinedChartPoints(data);
    assert.deepEqual(efficiencyRanking(points).map((p) => p.label), ["Q2_K", "Q4_K_M", "base"]);
    // The base (90%, 2 GB) is no better than Q4_K_M (90%, 0.5 GB): off the frontier.
    assert.deepEqual(paretoFrontier(points, "accuracy").map((p) => p.label), ["Q2_K", "Q4_K_M"]);
    // Flips (lower is better): both quants flip 20%, so the larger one is dominated.
    assert.deepEqual(paretoFrontier(points, "flipsPercent").map((p) => p.label), ["Q2_K"]);
    const csv = pointsToCsv(points, "accuracy").trim().split("\n");
    const header = csv[0].split(",");
    const row = csv.find((l) => l.startsWith("Q4_K_M,"))?.split(",") ?? [];
    assert.equal(row[header.indexOf("accuracy_percent")], "90");
    assert.equal(row[header.indexOf("flips_percent")], "20");
    assert.equal(row[header.indexOf("divergence_exact_percent")], "50");
    const q2 = csv.find((l) => l.startsWith("Q2_K,"))?.split(",") ?? [];
    assert.equal(q2[header.indexOf("mean_kld")], "", "no KLD: an empty cell, not NaN");
  });

  it("summarizes a quant's latest results against its base for the inspector", () => {
    const q4 = evalSummaryFor([data], "/m/model-Q4_K_M.gguf");
    assert.deepEqual(q4 && { ...q4, measuredAt: undefined }, {
      baseName: "base.gguf", isBase: false, measuredAt: undefined, meanKld: 0.05, accuracy: 90, accuracyError: q4?.accuracyError, efficiency: 130,
      flipsPercent: 20, baseAccuracy: 90, baseEfficiency: (90 - 25) / 2, divergence: 50, divergenceTokens: 4,
    });
    assert.equal(q4?.measuredAt, "2026-01-03T00:01:00Z");
    assert.equal(evalSummaryFor([data], "/m/base.gguf")?.isBase, true);
    assert.equal(evalSummaryFor([data], "/m/unknown.gguf"), undefined);
  });
});
