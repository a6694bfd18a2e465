// "Quantize Model…" driven through its real QuickPicks with key presses in the browser workbench.
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import * as vscode from "vscode";
import { readGgufModel } from "../../src/core/gguf";
import type { RunRecord } from "../../src/core/quant/runHistory";
import type { QuantizeOutcome } from "../../src/host/quantize/quantizeCommand";
import { STEP_TITLES } from "../../src/host/quantize/quantizePicks";
import { hasBrowserDriver, pressKeys, screenshot, waitForWorkbench, workbenchText } from "./driver";
import { choose, enter, waitForStep } from "./quickInput";

function workspaceFile(name: string): string {
  const folder = vscode.workspace.workspaceFolders?.[0];
  assert.ok(folder, "a workspace folder is open");
  return path.join(folder.uri.fsPath, name);
}


interface Answers {
  type: string;
  imatrix: "None" | { calibration: string };
  output: string;
}

/** Runs the command on `source` and answers every step like a user would. */
async function quantizeThroughUi(source: string, a: Answers, shot: string): Promise<QuantizeOutcome> {
  for (const p of [a.output, a.output.replace(/\.gguf$/, ".imatrix.gguf")]) fs.rmSync(p, { force: true });
  const run = vscode.commands.executeCommand<QuantizeOutcome | undefined>("ggufStudio.quantizeModel", vscode.Uri.file(source));
  await choose(STEP_TITLES.target, a.type);
  if (a.imatrix === "None") {
    await choose(STEP_TITLES.imatrix, "None");
  } else {
    await choose(STEP_TITLES.imatrix, "Compute");
    await choose(STEP_TITLES.calibration, path.basename(a.imatrix.calibration));
  }
  await enter(STEP_TITLES.output, a.output, true);
  // Advanced options: 2 threads; a small imatrix (128-token chunks, 4 of them) keeps the run short.
  await choose(STEP_TITLES.start, "Advanced");
  await enter(`${STEP_TITLES.advanced}: threads`, "2", true);
  await enter(`${STEP_TITLES.advanced}: imatrix context`, "128", true);
  await enter(`${STEP_TITLES.advanced}: imatrix chunks`, "4", true);
  await waitForStep(`${STEP_TITLES.advanced}: GPU layers`);
  await pressKeys("Escape");
  await waitForStep(STEP_TITLES.start);
  await screenshot(`${shot}-ready`);
  await choose(STEP_TITLES.start, "Start");
  const outcome = await run;
  assert.ok(outcome, "the flow ran to the end");
  assert.equal(outcome.error, undefined, outcome.error);
  const toast = await waitForWorkbench(".notifications-toasts", "Quantized", 30_000);
  assert.match(toast, /smaller/);
  await screenshot(`${shot}-done`);
  return outcome;
}

async function generates(modelPath: string): Promise<string> {
  const { getLlama, LlamaCompletion, LlamaLogLevel } = await import("node-llama-cpp");
  const llama = await getLlama({ gpu: false, build: "never", logLevel: LlamaLogLevel.error });
  try {
    const model = await llama.loadModel({ modelPath });
    const context = await model.createContext({ contextSize: 128 });
    const text = await new LlamaCompletion({ contextSequence: context.getSequence() }).generateCompletion("import os\n", { maxTokens: 6, temperature: 0 });
    await context.dispose();
    await model.dispose();
    return text;
  } finally {
    await llama.dispose();
  }
}

describe("Quantize Model… in the real host", function () {
  this.timeout(300_000);
  const made: string[] = [];
  before(function () {
    if (!hasBrowserDriver()) this.skip(); // QuickPicks are answered by key presses through the browser driver
  });
  after(() => {
    for (const p of made) fs.rmSync(p, { force: true });
  });

  for (const type of ["Q8_0", "Q4_K_M"]) {
    it(`quantizes tiny-llama to ${type}; the output has ${type}'s types and generates`, async () => {
      const src = workspaceFile("tiny-llama-f16.gguf");
      const out = workspaceFile(`ui-tiny-llama-${type}.gguf`);
      made.push(out);
      const outcome = await quantizeThroughUi(src, { type, imatrix: "None", output: out }, `quantize-${type}`);
      const model = await readGgufModel(out);
      const types = new Set(model.tensors.filter((t) => t.shape.length >= 2).map((t) => t.typeName));
      if (type === "Q8_0") assert.deepEqual([...types], ["Q8_0"]);
      else assert.ok(types.has("Q4_K") && types.has("Q6_K"), [...types].join(","));
      assert.equal(outcome.result?.sha256.length, 64);
      assert.ok((await generates(out)).length > 0);
    });
  }

  it("computes an imatrix from code-calib.txt, then quantizes to IQ2_XXS", async () => {
    const src = workspaceFile("tiny-llama-f16.gguf");
    const out = workspaceFile("ui-tiny-llama-IQ2_XXS.gguf");
    made.push(out, out.replace(/\.gguf$/, ".imatrix.gguf"));
    const outcome = await quantizeThroughUi(src, { type: "IQ2_XXS", imatrix: { calibration: workspaceFile("code-calib.txt") }, output: out }, "quantize-IQ2_XXS");
    assert.ok(outcome.result?.imatrix && fs.existsSync(outcome.result.imatrix));
    const model = await readGgufModel(out);
    assert.ok(model.tensors.some((t) => t.typeName === "IQ2_XXS"));
    assert.ok((await generates(out)).length > 0);
  });

  it("quantizes tiny-moe with an imatrix; experts and router handled, and the run is in the history", async () => {
    const src = workspaceFile("tiny-moe-f16.gguf");
    const out = workspaceFile("ui-tiny-moe-Q4_K_M.gguf");
    made.push(out, out.replace(/\.gguf$/, ".imatrix.gguf"));
    const outcome = await quantizeThroughUi(src, { type: "Q4_K_M", imatrix: { calibration: workspaceFile("code-calib.txt") }, output: out }, "quantize-moe");
    const model = await readGgufModel(out);
    const byKind = (kind: string) => model.tensors.filter((t) => t.kind === kind).map((t) => t.typeName);
    assert.ok(byKind("ffn_down_exps").length > 0 && byKind("ffn_down_exps").every((t) => t !== "F16"));
    assert.ok(byKind("ffn_gate_inp").every((t) => t === "F32"), "the router stays F32");
    assert.ok(outcome.result?.steps.some((s) => s.tool === "llama-imatrix"));
    assert.ok((await generates(out)).length > 0);

    const runs = await vscode.commands.executeCommand<RunRecord[]>("ggufStudio.showRunHistory");
    const latest = runs[0];
    assert.equal(latest.output, out);
    assert.equal(latest.status, "succeeded");
    assert.equal(latest.sha256, outcome.result?.sha256);
    assert.ok(latest.commands.some((c) => c.commandLine.includes("llama-imatrix") && c.commandLine.includes("--chunks 4")));
    assert.ok(latest.toolVersion && /\d/.test(latest.toolVersion));
    const view = (await workbenchText(".pane-header")).join("\n");
    assert.match(view, /Run History/i);
    await screenshot("quantize-run-history");
  });

  it("an IQ type offers no 'None' for the importance matrix", async () => {
    const run = vscode.commands.executeCommand<QuantizeOutcome | undefined>("ggufStudio.quantizeModel", vscode.Uri.file(workspaceFile("tiny-llama-f16.gguf")));
    await choose(STEP_TITLES.target, "IQ1_S");
    const text = await waitForStep(STEP_TITLES.imatrix);
    assert.match(text, /Compute from a calibration text/);
    assert.doesNotMatch(text, /\bNone\b/);
    await screenshot("quantize-iq-needs-imatrix");
    await pressKeys("Escape");
    assert.equal(await run, undefined);
  });
});
