// The model library feature: the Models tree view, the GGUF inspector custom editor, and their commands.
import * as vscode from "vscode";
import type { Feature, StudioContext } from "../context";
import { GgufInspectorProvider } from "../editors/ggufInspectorProvider";
import { modelCommands } from "./modelCommands";
import { ModelsTreeProvider } from "./modelsTree";

export const MODELS_VIEW_ID = "ggufStudio.models";

let tree: ModelsTreeProvider | undefined;

export const modelsFeature: Feature = {
  commands: modelCommands(() => tree),
  activate(ctx: StudioContext): void {
    GgufInspectorProvider.register(ctx);
    tree = ctx.register(new ModelsTreeProvider(ctx));
    ctx.register(vscode.window.createTreeView(MODELS_VIEW_ID, { treeDataProvider: tree, showCollapseAll: true, canSelectMany: true }));
  },
};
