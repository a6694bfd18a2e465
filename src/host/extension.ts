import * as vscode from "vscode";
import { COMMAND_IDS } from "./commandIds";
import { StudioContext, type CommandTable, type Feature } from "./context";
import { nativeToolsFeature } from "./commands/nativeToolsCommands";
import { modelsFeature } from "./views/modelsFeature";
import { quantizeFeature } from "./quantize/quantizeFeature";
import { templatesFeature } from "./templates/templatesFeature";
import { recipesFeature } from "./recipes/recipesFeature";
import { kldFeature } from "./kld/kldFeature";

// Each feature area contributes its commands and providers; activate() only wires them.
const FEATURES: Feature[] = [nativeToolsFeature, modelsFeature, quantizeFeature, templatesFeature, recipesFeature, kldFeature];

export interface GgufStudioApi {
  readonly context: StudioContext;
}

export function activate(extension: vscode.ExtensionContext): GgufStudioApi {
  const ctx = new StudioContext(extension);
  extension.subscriptions.push(ctx);
  const table: CommandTable = Object.assign({}, ...FEATURES.map((f) => f.commands ?? {}));
  for (const id of COMMAND_IDS) {
    const handler = table[id];
    if (handler) ctx.register(vscode.commands.registerCommand(id, (...args: unknown[]) => handler(ctx, ...args)));
  }
  for (const f of FEATURES) f.activate?.(ctx);
  ctx.log.info(`GGUF Studio activated (${extension.extensionUri.fsPath})`);
  return { context: ctx };
}

export function deactivate(): void {
  // Everything is disposed through extension.subscriptions.
}
