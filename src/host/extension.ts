import * as vscode from "vscode";
import { COMMAND_IDS, MODEL_WRITING_COMMANDS, NATIVE_TOOL_COMMANDS, type CommandId } from "./commandIds";
import { StudioContext, type CommandTable, type Feature } from "./context";
import { nativeToolsFeature } from "./commands/nativeToolsCommands";
import { modelsFeature } from "./views/modelsFeature";
import { quantizeFeature } from "./quantize/quantizeFeature";
import { templatesFeature } from "./templates/templatesFeature";
import { templatePreviewFeature } from "./templates/templatePreviewFeature";
import { recipesFeature } from "./recipes/recipesFeature";
import { kldFeature } from "./kld/kldFeature";
import { accuracyFeature } from "./kld/accuracyFeature";
import { LANGUAGE_MODEL_TOOLS, languageModelToolsFeature } from "./agentTools/languageModelTools";
import { walkthroughFeature } from "./walkthrough/walkthroughFeature";
import { UNTRUSTED_MODEL_WRITE_MESSAGE } from "./trust";

// Each feature area contributes its commands and providers; activate() only wires them.
const FEATURES: Feature[] = [nativeToolsFeature, modelsFeature, quantizeFeature, templatesFeature, templatePreviewFeature, recipesFeature, kldFeature, accuracyFeature, languageModelToolsFeature, walkthroughFeature];

export interface GgufStudioApi {
  readonly context: StudioContext;
  /** The language-model tools by name. */
  readonly languageModelTools: ReadonlyMap<string, vscode.LanguageModelTool<object>>;
}

export function activate(extension: vscode.ExtensionContext): GgufStudioApi {
  const ctx = new StudioContext(extension);
  extension.subscriptions.push(ctx);
  const table: CommandTable = Object.assign({}, ...FEATURES.map((f) => f.commands ?? {}));
  for (const id of COMMAND_IDS) {
    const handler = table[id];
    if (handler) ctx.register(vscode.commands.registerCommand(id, (...args: unknown[]) => (refusedUntrusted(id) ? undefined : handler(ctx, ...args))));
  }
  for (const f of FEATURES) f.activate?.(ctx);
  ctx.log.info(`GGUF Studio activated (${extension.extensionUri.fsPath})`);
  return { context: ctx, languageModelTools: LANGUAGE_MODEL_TOOLS };
}

/**
 * One gate for every command that runs native tools or writes model files, as the manifest's
 * untrustedWorkspaces description promises (the tool runner and the writers refuse as well, as a
 * second line).
 */
function refusedUntrusted(id: CommandId): boolean {
  if (vscode.workspace.isTrusted) return false;
  const message = NATIVE_TOOL_COMMANDS.includes(id)
    ? vscode.l10n.t("GGUF Studio runs llama.cpp tools only in a trusted workspace. Trust this workspace to quantize or evaluate models.")
    : MODEL_WRITING_COMMANDS.includes(id)
      ? UNTRUSTED_MODEL_WRITE_MESSAGE
      : undefined;
  if (!message) return false;
  const manage = vscode.l10n.t("Manage Workspace Trust");
  void vscode.window
    .showErrorMessage(message, manage)
    .then((choice) => (choice === manage ? vscode.commands.executeCommand("workbench.trust.manage") : undefined));
  return true;
}

export function deactivate(): void {
  // Everything is disposed through extension.subscriptions.
}
