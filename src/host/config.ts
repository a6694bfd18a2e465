// The one facade over ggufStudio.* settings. Nothing else calls getConfiguration().
import * as vscode from "vscode";

export type GpuOffloadMode = "auto" | "cpu" | "gpu";

export class Config {
  private get section(): vscode.WorkspaceConfiguration {
    return vscode.workspace.getConfiguration("ggufStudio");
  }
  /** Folder holding llama-quantize & co.; empty means "use the bundled tools, then PATH". */
  get llamaCppPath(): string | undefined {
    const v = this.section.get<string>("llamaCppPath", "").trim();
    return v.length > 0 ? v : undefined;
  }
  get modelFolders(): string[] {
    return this.section.get<string[]>("modelFolders", []);
  }
  get scanHuggingFaceCache(): boolean {
    return this.section.get<boolean>("scan.huggingFaceCache", true);
  }
  get scanLmStudio(): boolean {
    return this.section.get<boolean>("scan.lmStudio", true);
  }
  get scanLlamaCppCache(): boolean {
    return this.section.get<boolean>("scan.llamaCppCache", true);
  }
  get threads(): number {
    return this.section.get<number>("threads", 0);
  }
  get gpuOffload(): GpuOffloadMode {
    return this.section.get<GpuOffloadMode>("gpuOffload", "auto");
  }
  get templateTargets(): string[] {
    return this.section.get<string[]>("templates.targets", ["llama.cpp", "huggingface", "minja", "jinja2"]);
  }
  get kldCacheMaxGiB(): number {
    return this.section.get<number>("kld.cacheMaxGiB", 20);
  }
  /** Fires when any ggufStudio.* setting changes; one listener, registered in activate(). */
  static affects(e: vscode.ConfigurationChangeEvent, key?: string): boolean {
    return e.affectsConfiguration(key ? `ggufStudio.${key}` : "ggufStudio");
  }
}
