// The quantize feature: "Quantize Model…" (presets or a recipe), "Quantize with Recipe…", "Show Run History", and the run history view.
import path from "node:path";
import * as vscode from "vscode";
import { RunHistoryStore, type RunRecord } from "../../core/quant/runHistory";
import type { Feature, StudioContext } from "../context";
import { quantizeModelCommand } from "./quantizeCommand";
import { pickRecipeFile } from "./quantizePicks";
import { RUN_HISTORY_VIEW_ID, RunHistoryTree } from "./runHistoryView";

let history: RunHistoryStore | undefined;
let tree: RunHistoryTree | undefined;

function store(ctx: StudioContext): RunHistoryStore {
  history ??= new RunHistoryStore(path.join(ctx.storageDir, "quantize-runs.json"));
  return history;
}

/** Focuses the history view; with `{ copy }` (a command-line item) copies that line. Returns the runs, newest first. */
async function showRunHistory(ctx: StudioContext, arg: unknown): Promise<RunRecord[]> {
  if (arg && typeof arg === "object" && typeof (arg as { copy?: unknown }).copy === "string") {
    await vscode.env.clipboard.writeText((arg as { copy: string }).copy);
    void vscode.window.showInformationMessage("Command line copied");
  } else {
    await vscode.commands.executeCommand(`${RUN_HISTORY_VIEW_ID}.focus`).then(undefined, () => undefined);
  }
  return store(ctx).list();
}

export const quantizeFeature: Feature = {
  commands: {
    "ggufStudio.quantizeModel": async (ctx, arg) => {
      const outcome = await quantizeModelCommand(ctx, store(ctx), arg);
      tree?.refresh();
      return outcome;
    },
    // Explorer "Quantize with Recipe…" on a *.quant.json; from elsewhere it asks for the recipe first.
    "ggufStudio.quantizeWithRecipe": async (ctx, arg) => {
      const recipe = arg instanceof vscode.Uri ? arg : await pickRecipeFile().then((p) => (p ? vscode.Uri.file(p) : undefined));
      if (!recipe) return undefined;
      const outcome = await quantizeModelCommand(ctx, store(ctx), recipe);
      tree?.refresh();
      return outcome;
    },
    "ggufStudio.showRunHistory": (ctx, arg) => showRunHistory(ctx, arg),
  },
  activate(ctx) {
    tree = ctx.register(new RunHistoryTree(store(ctx)));
    ctx.register(vscode.window.createTreeView(RUN_HISTORY_VIEW_ID, { treeDataProvider: tree }));
  },
};
