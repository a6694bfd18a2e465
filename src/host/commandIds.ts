// Every command the extension contributes. A unit test checks this list against package.json.
// (No vscode import, so that test runs in plain Node.)
export const COMMAND_IDS = [
  "ggufStudio.showNativeTools",
  "ggufStudio.rebuildNativeTools",
  "ggufStudio.inspectModel",
  "ggufStudio.refreshModels",
  "ggufStudio.revealModel",
  "ggufStudio.copyModelPath",
  "ggufStudio.deleteModel",
  "ggufStudio.sweepTempFiles",
  "ggufStudio.exportSummary",
  "ggufStudio.quantizeModel",
  "ggufStudio.quantizeWithRecipe",
  "ggufStudio.showRunHistory",
  "ggufStudio.evaluateKld",
  "ggufStudio.openKldChart",
  "ggufStudio.evaluateAccuracy",
  "ggufStudio.newRecipe",
  "ggufStudio.openRecipeEditor",
  "ggufStudio.optimizeRecipe",
  "ggufStudio.extractRecipe",
  "ggufStudio.compareModels",
  "ggufStudio.cleanKldCache",
  "ggufStudio.editChatTemplate",
  "ggufStudio.saveTemplateToGguf",
  "ggufStudio.showTemplateDiff",
  "ggufStudio.previewTemplate",
  "ggufStudio.openWalkthrough",
] as const;

export type CommandId = (typeof COMMAND_IDS)[number];

/** Commands that start llama.cpp tools; they refuse to run in untrusted workspaces. */
export const NATIVE_TOOL_COMMANDS: readonly CommandId[] = [
  "ggufStudio.rebuildNativeTools",
  "ggufStudio.quantizeModel",
  "ggufStudio.quantizeWithRecipe",
  "ggufStudio.evaluateKld",
  "ggufStudio.optimizeRecipe",
  // node-llama-cpp's native code loads and runs the models.
  "ggufStudio.evaluateAccuracy",
];

/** Commands that write, replace or delete model files; they refuse in untrusted workspaces too. */
export const MODEL_WRITING_COMMANDS: readonly CommandId[] = [
  "ggufStudio.deleteModel",
  "ggufStudio.saveTemplateToGguf",
];
