// "Extract Recipe from Model…": a quant's per-tensor types as a compact *.quant.json next to it.
import fs from "node:fs";
import path from "node:path";
import * as vscode from "vscode";
import { writeFileAtomically } from "../../core/atomicWrite";
import { describeExtraction, ExtractError, extractRecipeFromFile, type ExtractResult } from "../../core/quant/recipeExtract";
import { serializeRecipe } from "../../core/quant/recipeParse";
import type { StudioContext } from "../context";
import { reportError } from "../errors";
import { modelUriFromArgument } from "../views/modelNodes";

export interface ExtractArgs {
  readonly model?: string;
  readonly out?: string;
  /** Open the written recipe (default true). */
  readonly open?: boolean;
}

export async function extractRecipeCommand(ctx: StudioContext, raw?: unknown): Promise<(ExtractResult & { file: string }) | undefined> {
  try {
    const args = (raw && typeof raw === "object" && !(raw instanceof vscode.Uri) && ("model" in raw || "out" in raw) ? raw : {}) as ExtractArgs;
    const model = args.model ?? modelUriFromArgument(raw, () => undefined)?.fsPath
      ?? (await vscode.window.showOpenDialog({ title: "Quantized model to extract the recipe from", filters: { GGUF: ["gguf"] }, openLabel: "Extract" }))?.[0]?.fsPath;
    if (!model) return undefined;
    const result = await extractRecipeFromFile(model);
    const stem = path.basename(model).replace(/(-\d{5}-of-\d{5})?\.gguf$/i, "");
    const out = args.out ?? (await vscode.window.showSaveDialog({
      title: "Save extracted recipe", defaultUri: vscode.Uri.file(path.join(path.dirname(model), `${stem}.quant.json`)),
      filters: { "Quantization recipe": ["quant.json"] },
    }))?.fsPath;
    if (!out) return undefined;
    // The save dialog already asked about replacing an existing file; an explicit out never replaces silently.
    if (args.out && fs.existsSync(out)) throw new Error(`${out} exists; choose another name`);
    await writeFileAtomically(out, serializeRecipe(result.recipe));
    ctx.log.info(`Extracted ${out} from ${model}: ${describeExtraction(result)}`);
    if (args.open !== false) await vscode.window.showTextDocument(vscode.Uri.file(out), { preview: false });
    void vscode.window.showInformationMessage(`Recipe extracted: ${describeExtraction(result)}${result.imatrix ? "; the source used an importance matrix" : ""}.`);
    return { ...result, file: out };
  } catch (e) {
    if (e instanceof ExtractError && e.code === "nothing-to-extract") {
      void vscode.window.showWarningMessage(e.message);
      return undefined;
    }
    await reportError("Extract recipe", e, ctx.log);
    return undefined;
  }
}
