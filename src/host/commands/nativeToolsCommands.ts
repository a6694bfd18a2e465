// "Show Native Tools": where each llama.cpp tool comes from, its version and backend; offers a rebuild.
import fs from "node:fs";
import path from "node:path";
import * as vscode from "vscode";
import { NATIVE_TOOLS, probeToolVersion, type NativeToolName, type ToolBackend, type ToolSource } from "../../core/native/toolLocator";
import type { Feature, StudioContext } from "../context";
import { reportError } from "../errors";

export interface NativeToolReport {
  readonly name: NativeToolName;
  readonly path?: string;
  readonly source?: ToolSource;
  readonly backend?: ToolBackend;
  readonly version?: string;
  readonly problem?: string;
  /** Why the version was not asked (restricted mode: the tool is located but never started). */
  readonly notRun?: string;
}

const NOT_RUN_UNTRUSTED = "version not checked: tools do not run in an untrusted workspace";

export async function describeNativeTools(ctx: StudioContext): Promise<NativeToolReport[]> {
  const location = ctx.tools.locate();
  // Asking a tool for its version runs it: in restricted mode only say where each one is.
  const mayRun = vscode.workspace.isTrusted;
  return Promise.all(
    NATIVE_TOOLS.map(async (name): Promise<NativeToolReport> => {
      const tool = location.found[name];
      if (!tool) return { name, problem: location.settingProblem ?? "not found in the setting's folder, the bundled bin/ or PATH" };
      if (!mayRun) return { name, path: tool.path, source: tool.source, backend: tool.backend, notRun: NOT_RUN_UNTRUSTED };
      try {
        const v = await probeToolVersion(tool.path);
        return { name, path: tool.path, source: tool.source, backend: tool.backend, version: v.version };
      } catch (e) {
        return { name, path: tool.path, source: tool.source, backend: tool.backend, problem: e instanceof Error ? e.message : String(e) };
      }
    }),
  );
}

const REBUILD_LABEL = "$(tools) Rebuild native tools…";

async function showNativeTools(ctx: StudioContext, options?: unknown): Promise<NativeToolReport[]> {
  const reports = await describeNativeTools(ctx);
  for (const r of reports) ctx.log.info(`${r.name}: ${r.path ?? "-"} ${r.version ?? ""} ${r.backend ?? ""} ${r.problem ?? r.notRun ?? ""}`.trim());
  // Tests and scripts call the command for its data without opening UI.
  if (isQuiet(options)) return reports;
  const items: vscode.QuickPickItem[] = reports.map((r) => ({
    label: `${r.problem ? "$(error)" : r.notRun ? "$(shield)" : "$(check)"} ${r.name}`,
    description: r.problem ? r.problem : r.notRun ? `${r.notRun} · ${r.backend} · ${r.source}` : `${r.version} · ${r.backend} · ${r.source}`,
    detail: r.path,
  }));
  if (vscode.workspace.isTrusted) {
    items.push({ label: "", kind: vscode.QuickPickItemKind.Separator }, { label: REBUILD_LABEL, description: "build from the llama.cpp source bundled with node-llama-cpp" });
  }
  const picked = await vscode.window.showQuickPick(items, { title: "GGUF Studio: Native Tools", placeHolder: "llama.cpp tools used by GGUF Studio" });
  if (picked?.label === REBUILD_LABEL) await rebuildNativeTools(ctx);
  return reports;
}

function isQuiet(options: unknown): boolean {
  return typeof options === "object" && options !== null && (options as { quiet?: unknown }).quiet === true;
}

async function rebuildNativeTools(ctx: StudioContext): Promise<void> {
  const script = path.join(ctx.extensionRoot, "scripts", "build-native.mjs");
  if (!fs.existsSync(script) || !fs.existsSync(path.join(ctx.extensionRoot, "node_modules", "node-llama-cpp", "llama"))) {
    void vscode.window.showErrorMessage(
      "Rebuilding needs a source checkout of GGUF Studio (scripts/build-native.mjs and node_modules). Installed extensions ship prebuilt tools; set ggufStudio.llamaCppPath to use your own build.",
    );
    return;
  }
  try {
    await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: "Building llama.cpp tools", cancellable: true },
      (progress, token) =>
        ctx.tools.runExecutable(process.execPath, [script, "--force"], {
          token,
          cwd: ctx.extensionRoot,
          // In desktop VS Code process.execPath is Electron; this makes it behave as Node.
          env: { ...process.env, ELECTRON_RUN_AS_NODE: "1" },
          parseProgress: (line) => {
            const m = /^\[\s*(\d+)%\]/.exec(line);
            return m ? { fraction: Number(m[1]) / 100, message: line.replace(/^\[\s*\d+%\]\s*/, "") } : undefined;
          },
          onProgress: (p) => progress.report({ message: p.message }),
        }),
    );
    void vscode.window.showInformationMessage("llama.cpp tools rebuilt.");
  } catch (e) {
    await reportError("Rebuilding native tools failed", e, ctx.log);
  }
}

export const nativeToolsFeature: Feature = {
  commands: {
    "ggufStudio.showNativeTools": (ctx, options) => showNativeTools(ctx, options),
    "ggufStudio.rebuildNativeTools": (ctx) => rebuildNativeTools(ctx),
  },
};
