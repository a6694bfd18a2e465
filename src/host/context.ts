// The one object handed to every feature: settings, log, native tools, disposables.
import * as vscode from "vscode";
import type { CommandId } from "./commandIds";
import { Config } from "./config";
import { NativeTools } from "./nativeTools";

export class StudioContext implements vscode.Disposable {
  readonly config = new Config();
  readonly log: vscode.LogOutputChannel;
  readonly tools: NativeTools;
  private readonly disposables: vscode.Disposable[] = [];
  private readonly configListeners: ((e: vscode.ConfigurationChangeEvent) => void)[] = [];

  constructor(readonly extension: vscode.ExtensionContext) {
    this.log = this.register(vscode.window.createOutputChannel("GGUF Studio", { log: true }));
    this.tools = new NativeTools(extension.extensionUri.fsPath, this.config, this.log);
    this.register(
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (Config.affects(e)) for (const l of this.configListeners) l(e);
      }),
    );
  }

  get extensionRoot(): string {
    return this.extension.extensionUri.fsPath;
  }

  /** Folder for run history, results, caches (created on demand by the writers). */
  get storageDir(): string {
    return this.extension.globalStorageUri.fsPath;
  }

  register<T extends vscode.Disposable>(d: T): T {
    this.disposables.push(d);
    return d;
  }

  /** The single configuration-change fan-out; features subscribe here instead of adding their own listener. */
  onConfigChange(listener: (e: vscode.ConfigurationChangeEvent) => void): void {
    this.configListeners.push(listener);
  }

  dispose(): void {
    while (this.disposables.length) this.disposables.pop()?.dispose();
  }
}

export type CommandHandler = (ctx: StudioContext, ...args: unknown[]) => unknown;
export type CommandTable = Partial<Record<CommandId, CommandHandler>>;

/** A feature area: its commands and whatever providers it registers. */
export interface Feature {
  readonly commands?: CommandTable;
  activate?(ctx: StudioContext): void;
}
