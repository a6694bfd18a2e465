// The recipe editor: a webview over one *.quant.json and the model it names. Every edit is applied
// to the recipe, re-resolved against the model (exact sizes from ggml block sizes) and saved.
import path from "node:path";
import * as vscode from "vscode";
import { parseRecipe, serializeRecipe } from "../../core/quant/recipeParse";
import { loadRecipeModel, type RecipeModel } from "../../core/quant/recipeFile";
import type { QuantRecipe, RecipeResolution, RecipeRule } from "../../core/quant/recipeTypes";
import { RECIPE_FROM_WEBVIEW_SCHEMA, type RecipeFromWebview, type RecipeToWebview } from "../../shared/recipeProtocol";
import type { StudioContext } from "../context";
import { buildWebviewHtml, webviewOptions } from "../webviewHtml";
import { acceptWebviewMessage } from "../../shared/messageSchema";
import { buildState, kindPattern, rowView, selectionRules } from "./recipeView";
import { recipeSourceLayerCount } from "../../core/quant/recipeFile";
import { modelLayerCount, remapRecipeLayers, type LayerMapping } from "../../core/quant/recipeRemap";

export class RecipeEditorPanel implements vscode.Disposable {
  private static readonly open = new Map<string, RecipeEditorPanel>();
  private readonly disposables: vscode.Disposable[] = [];
  private resolution: RecipeResolution | undefined;
  /** Last state posted; tests read it to compare with the core. */
  lastState: RecipeToWebview | undefined;

  static async show(ctx: StudioContext, recipeFile: string, modelOverride?: string): Promise<RecipeEditorPanel> {
    const existing = RecipeEditorPanel.open.get(recipeFile);
    if (existing) {
      existing.panel.reveal();
      return existing;
    }
    const { recipe } = parseRecipe(Buffer.from(await vscode.workspace.fs.readFile(vscode.Uri.file(recipeFile))).toString("utf8"), path.basename(recipeFile));
    const modelPath = modelOverride ?? (recipe.model ? path.resolve(path.dirname(recipeFile), recipe.model) : undefined);
    if (!modelPath) throw new Error(`${path.basename(recipeFile)} names no base model ("model"); open it from "GGUF Studio: New Recipe…" or add "model": "path/to/model.gguf"`);
    const model = await loadRecipeModel(modelPath);
    const panel = vscode.window.createWebviewPanel("ggufStudio.recipeEditor", `Recipe: ${path.basename(recipeFile)}`, vscode.ViewColumn.Active, {
      ...webviewOptions(ctx.extension.extensionUri), retainContextWhenHidden: true,
    });
    panel.webview.html = buildWebviewHtml(panel.webview, ctx.extension.extensionUri, { entry: "recipe", title: "Recipe editor" });
    const editor = new RecipeEditorPanel(ctx, panel, recipeFile, recipe, model);
    editor.sourceLayers = await recipeSourceLayerCount(recipe, path.dirname(recipeFile));
    RecipeEditorPanel.open.set(recipeFile, editor);
    return editor;
  }

  /** Panels open now, by recipe file (tests use it). */
  static panels(): ReadonlyMap<string, RecipeEditorPanel> {
    return RecipeEditorPanel.open;
  }

  private constructor(
    private readonly ctx: StudioContext,
    readonly panel: vscode.WebviewPanel,
    readonly recipeFile: string,
    private recipe: QuantRecipe,
    readonly model: RecipeModel,
  ) {
    this.disposables.push(
      panel.webview.onDidReceiveMessage((raw: unknown) => {
        const m = acceptWebviewMessage(RECIPE_FROM_WEBVIEW_SCHEMA, raw, "recipe editor", (w) => ctx.log.warn(w));
        if (m) this.onMessage(m).catch((e) => this.postError(e));
      }),
      panel.onDidDispose(() => this.dispose()),
    );
  }

  /** Layer count the recipe was made for (recorded, or its model's), found once when the editor opens. */
  private sourceLayers: number | undefined;

  /** How the recipe's layer ranges map onto this model, when it was made for another layer count. */
  private layerMapping(): LayerMapping | undefined {
    const to = modelLayerCount(this.model.tensors);
    return this.sourceLayers !== undefined && to > 0 && this.sourceLayers !== to ? remapRecipeLayers(this.recipe, this.sourceLayers, this.model.tensors) : undefined;
  }

  get currentRecipe(): QuantRecipe {
    return this.recipe;
  }

  private post(m: RecipeToWebview): void {
    void this.panel.webview.postMessage(m);
  }

  private postError(e: unknown): void {
    this.post({ type: "error", message: e instanceof Error ? e.message : String(e) });
  }

  private pushState(): void {
    const { message, resolution } = buildState(this.recipe, this.model, this.recipeFile, this.layerMapping());
    this.resolution = resolution;
    this.lastState = message;
    this.post(message);
  }

  private async update(recipe: QuantRecipe): Promise<void> {
    // Validate through the same parser the CLI uses, so the editor can never save a bad recipe.
    const { recipe: valid } = parseRecipe(JSON.stringify(recipe));
    this.recipe = valid;
    this.pushState();
    await vscode.workspace.fs.writeFile(vscode.Uri.file(this.recipeFile), Buffer.from(serializeRecipe(valid), "utf8"));
  }

  private async onMessage(m: RecipeFromWebview): Promise<void> {
    const rules = [...this.recipe.rules];
    switch (m.type) {
      case "ready":
        this.pushState();
        return;
      case "requestRows": {
        const rows = (this.resolution?.tensors ?? []).slice(m.offset, m.offset + m.count).map((a) => rowView(this.recipe, a));
        this.post({ type: "rows", offset: m.offset, rows });
        return;
      }
      case "setBaseType":
        return this.update({ ...this.recipe, baseType: m.baseType });
      case "setRuleType":
        if (!rules[m.index]) return;
        rules[m.index] = { ...rules[m.index], type: m.ruleType };
        return this.update({ ...this.recipe, rules });
      case "removeRule":
        rules.splice(m.index, 1);
        return this.update({ ...this.recipe, rules });
      case "addRule":
        return this.update({ ...this.recipe, rules: [...rules, { pattern: m.pattern, type: m.ruleType }] });
      case "setGroupType": {
        // One rule per kind, moved to the end so this latest decision wins (last match wins).
        const pattern = kindPattern(m.kind);
        const kept = rules.filter((r) => r.pattern !== pattern);
        const rule: RecipeRule = { pattern, type: m.groupType, note: `every ${m.kind} (set in the editor)` };
        return this.update({ ...this.recipe, rules: [...kept, rule] });
      }
      case "setSelectionType": {
        const added = selectionRules(m.selection, m.ruleType, this.model);
        if (added.length === 0) return;
        return this.update({ ...this.recipe, rules: [...rules, ...added] });
      }
      default: {
        const never: never = m;
        throw new Error(`unknown message ${JSON.stringify(never)}`);
      }
    }
  }

  dispose(): void {
    RecipeEditorPanel.open.delete(this.recipeFile);
    while (this.disposables.length) this.disposables.pop()?.dispose();
    this.ctx.log.info(`recipe editor closed: ${this.recipeFile}`);
  }
}
