// The agent tools as VS Code language-model tools (Copilot agent mode, any chat participant).
// Thin: input, confirmation and result mapping; the work is runAgentTool in src/core/agentTools.
import * as vscode from "vscode";
import { AGENT_TOOL_SPECS, describePlan, planQuantize, runAgentTool, type AgentToolSpec } from "../../core/agentTools";
import type { Feature, StudioContext } from "../context";
import { isCancellation } from "../errors";
import { AgentToolHost } from "./agentToolHostEnv";

class StudioLanguageModelTool implements vscode.LanguageModelTool<object> {
  constructor(private readonly spec: AgentToolSpec, private readonly host: AgentToolHost, private readonly ctx: StudioContext) {}

  prepareInvocation(options: vscode.LanguageModelToolInvocationPrepareOptions<object>): vscode.PreparedToolInvocation {
    if (!this.spec.runsNativeTools) return { invocationMessage: vscode.l10n.t("GGUF Studio: {0}", this.spec.displayName) };
    // Nothing runs untrusted, and a call with bad paths is refused by invoke: no question to ask then.
    if (!vscode.workspace.isTrusted) return { invocationMessage: vscode.l10n.t("GGUF Studio: {0} (refused: untrusted workspace)", this.spec.displayName) };
    const env = this.host.env(new vscode.CancellationTokenSource().token);
    try {
      const plan = planQuantize(options.input, env);
      return {
        invocationMessage: vscode.l10n.t("GGUF Studio: quantizing {0}", plan.model),
        confirmationMessages: {
          title: vscode.l10n.t("Quantize with GGUF Studio?"),
          message: vscode.l10n.t("{0} This runs llama-quantize on this machine.", describePlan(plan)),
        },
      };
    } catch {
      return { invocationMessage: vscode.l10n.t("GGUF Studio: {0}", this.spec.displayName) };
    } finally {
      env.dispose();
    }
  }

  async invoke(options: vscode.LanguageModelToolInvocationOptions<object>, token: vscode.CancellationToken): Promise<vscode.LanguageModelToolResult> {
    const run = async (onProgress?: (message: string) => void) => {
      const env = this.host.env(token, onProgress);
      try {
        return await runAgentTool(this.spec.name, options.input, env);
      } finally {
        env.dispose();
      }
    };
    let result;
    try {
      result = this.spec.runsNativeTools
        ? await vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title: "GGUF Studio" }, (progress) => run((message) => progress.report({ message })))
        : await run();
    } catch (e) {
      if (isCancellation(e) || token.isCancellationRequested) throw new vscode.CancellationError();
      throw e;
    }
    this.ctx.log.info(`Language-model tool ${this.spec.name}: ${result.isError ? result.text.split("\n")[0] : "done"}`);
    // VS Code hands a thrown error's message to the model: the refusal's reason is what it needs.
    if (result.isError) throw new Error(result.text);
    return new vscode.LanguageModelToolResult([new vscode.LanguageModelTextPart(result.text)]);
  }
}

/** The registered tools by name (the extension's API hands them to tests, for prepareInvocation). */
export const LANGUAGE_MODEL_TOOLS = new Map<string, vscode.LanguageModelTool<object>>();

export const languageModelToolsFeature: Feature = {
  activate(ctx) {
    const host = new AgentToolHost(ctx);
    for (const spec of AGENT_TOOL_SPECS) {
      const tool = new StudioLanguageModelTool(spec, host, ctx);
      LANGUAGE_MODEL_TOOLS.set(spec.name, tool);
      ctx.register(vscode.lm.registerTool(spec.name, tool));
    }
  },
};
