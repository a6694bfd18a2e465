// The chat-template feature: virtual GGUF template documents, diagnostics and verified quick
// fixes against the target engines, save-back into a new GGUF, and the render diff view.
import * as vscode from "vscode";
import { EngineSet } from "../../core/templates/engines";
import type { Feature, StudioContext } from "../context";
import { GGUF_TEMPLATE_SCHEME, GgufTemplateFileSystem } from "./ggufTemplateFs";
import { editChatTemplate, RENDER_SCHEME, RenderedOutputProvider, saveTemplateToGguf, showTemplateDiff } from "./templateCommands";
import { TemplateLinting } from "./templateLinting";

let linting: TemplateLinting | undefined;
const renders = new RenderedOutputProvider();

/** The live linter, for tests and other features (undefined before activation). */
export function templateLinting(): TemplateLinting | undefined {
  return linting;
}

export const templatesFeature: Feature = {
  commands: {
    "ggufStudio.editChatTemplate": (ctx, arg, key) => editChatTemplate(ctx, arg, key),
    "ggufStudio.saveTemplateToGguf": (ctx, arg, output) => saveTemplateToGguf(ctx, arg, output),
    "ggufStudio.showTemplateDiff": (_ctx, arg, ruleId, engine) => (linting ? showTemplateDiff(linting, renders, arg, ruleId, engine) : false),
  },
  activate(ctx: StudioContext) {
    ctx.register(vscode.workspace.registerFileSystemProvider(GGUF_TEMPLATE_SCHEME, new GgufTemplateFileSystem(), { isCaseSensitive: true }));
    ctx.register(vscode.workspace.registerTextDocumentContentProvider(RENDER_SCHEME, renders));
    // Python (jinja2) never starts in an untrusted workspace, not even to check that it is there.
    const engines = new EngineSet({ root: ctx.extensionRoot, allowPython: () => vscode.workspace.isTrusted });
    ctx.register({ dispose: () => engines.dispose() });
    for (const a of engines.availability.values()) ctx.log.info(`template engine ${a.engine}: ${a.available ? "available" : "unavailable"} (${a.detail})`);
    linting = ctx.register(new TemplateLinting(ctx, engines));
  },
};
