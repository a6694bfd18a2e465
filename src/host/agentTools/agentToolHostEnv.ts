// The host's side of the agent tools: roots from the workspace and the model-folder settings,
// native runs through the extension's trust-checking runner, one shared template EngineSet.
import os from "node:os";
import * as vscode from "vscode";
import type { AgentToolEnv } from "../../core/agentTools";
import { existingSources } from "../../core/models/modelSources";
import { EngineSet } from "../../core/templates/engines";
import { parseEngineId, type EngineId } from "../../core/templates/types";
import type { ToolInvoker } from "../../core/quant/quantizeJob";
import type { StudioContext } from "../context";
import { modelSourceCandidates } from "../views/modelSourceCandidates";

const untrustedNative = () => vscode.l10n.t("GGUF Studio runs llama.cpp tools only in a trusted workspace, and this one is not trusted. Trust the workspace (Manage Workspace Trust) to let the agent quantize.");


/** Builds the environment for one invocation (settings and trust are read at call time). */
export class AgentToolHost {
  private engineSet: EngineSet | undefined;

  constructor(private readonly ctx: StudioContext) {
    ctx.register({ dispose: () => this.engineSet?.dispose() });
  }

  env(token: vscode.CancellationToken, onProgress?: AgentToolEnv["onProgress"]): AgentToolEnv & { dispose(): void } {
    const ctx = this.ctx;
    const abort = new AbortController();
    const sub = token.onCancellationRequested(() => abort.abort());
    if (token.isCancellationRequested) abort.abort();
    const sources = modelSourceCandidates(ctx);
    const invoke: ToolInvoker = (_tool, executable, args, o) =>
      ctx.tools.runExecutable(executable, args, { token, outputs: o.outputs, parseProgress: o.parseProgress, onProgress: o.onProgress, onLine: o.onLine });
    return {
      roots: sources.map((s) => s.root),
      baseDir: vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? os.homedir(),
      nativeAllowed: vscode.workspace.isTrusted,
      nativeRefusal: untrustedNative(),
      executables: () => {
        const found = ctx.tools.locate().found;
        return { quantize: found["llama-quantize"]?.path, imatrix: found["llama-imatrix"]?.path };
      },
      invoke,
      engines: () => (this.engineSet ??= new EngineSet({ root: ctx.extensionRoot, allowPython: () => vscode.workspace.isTrusted })),
      // Native engines (llama.cpp's, minja) and Python do not run in restricted mode.
      templateTargets: (): EngineId[] => vscode.workspace.isTrusted
        ? [...new Set(ctx.config.templateTargets.map(parseEngineId).filter((e): e is EngineId => e !== undefined))]
        : ["hf-jinja"],
      listRoots: async () => (await existingSources(sources)).map((s) => ({ label: s.label, root: s.root })),
      signal: abort.signal,
      onProgress,
      dispose: () => sub.dispose(),
    };
  }
}
