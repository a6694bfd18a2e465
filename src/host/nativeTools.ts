// Host adapter over the core tool runner: workspace trust, settings, CancellationToken and the log channel.
import * as vscode from "vscode";
import { locateTools, type LocatedTool, type NativeToolName, type ToolLocation } from "../core/native/toolLocator";
import { runTool, type ToolProgress, type ToolRunResult, type OutputStream } from "../core/native/toolRunner";
import type { Config } from "./config";

export class UntrustedWorkspaceError extends Error {
  constructor() {
    super("GGUF Studio runs llama.cpp tools only in a trusted workspace. Trust this workspace to quantize or evaluate models.");
    this.name = "UntrustedWorkspaceError";
  }
}

export class ToolUnavailableError extends Error {
  constructor(readonly tool: NativeToolName, detail: string) {
    super(`${tool} was not found (${detail}). Run "npm run build:native" in the extension folder, or set ggufStudio.llamaCppPath to a folder holding llama.cpp's tools.`);
    this.name = "ToolUnavailableError";
  }
}

export interface HostToolRunOptions {
  readonly token?: vscode.CancellationToken;
  readonly cwd?: string;
  readonly env?: NodeJS.ProcessEnv;
  readonly outputs?: readonly string[];
  readonly parseProgress?: (line: string, stream: OutputStream) => ToolProgress | undefined;
  readonly onProgress?: (p: ToolProgress) => void;
  readonly onLine?: (line: string, stream: OutputStream) => void;
  /** Aborts like the token (the probe engine's own stop: close, request time limit). */
  readonly signal?: AbortSignal;
  /** For request/response tools (the probe engine): the child's stdin. */
  readonly onStdin?: (stdin: NodeJS.WritableStream) => void;
}

export class NativeTools {
  constructor(
    private readonly extensionRoot: string,
    private readonly config: Config,
    private readonly log: vscode.LogOutputChannel,
  ) {}

  locate(): ToolLocation {
    return locateTools({ configuredDir: this.config.llamaCppPath, extensionRoot: this.extensionRoot });
  }

  require(name: NativeToolName): LocatedTool {
    const location = this.locate();
    const tool = location.found[name];
    if (!tool) throw new ToolUnavailableError(name, location.settingProblem ?? "not in the setting's folder, the bundled bin/ or PATH");
    return tool;
  }

  /** Runs a tool; refuses in untrusted workspaces. Cancelling the token kills the tool and removes `outputs`. */
  async run(name: NativeToolName, args: readonly string[], options: HostToolRunOptions = {}): Promise<ToolRunResult> {
    if (!vscode.workspace.isTrusted) throw new UntrustedWorkspaceError();
    const tool = this.require(name);
    return this.runExecutable(tool.path, args, options);
  }

  /** For callers that resolved an executable themselves (tests use a fake crashing tool this way). */
  async runExecutable(executable: string, args: readonly string[], options: HostToolRunOptions = {}): Promise<ToolRunResult> {
    if (!vscode.workspace.isTrusted) throw new UntrustedWorkspaceError();
    const abort = new AbortController();
    const sub = options.token?.onCancellationRequested(() => abort.abort());
    if (options.token?.isCancellationRequested || options.signal?.aborted) abort.abort();
    const onSignal = () => abort.abort();
    options.signal?.addEventListener("abort", onSignal, { once: true });
    this.log.info(`$ ${[executable, ...args].map(quoteForLog).join(" ")}`);
    try {
      const result = await runTool({
        executable,
        args,
        cwd: options.cwd,
        env: options.env,
        signal: abort.signal,
        outputs: options.outputs,
        parseProgress: options.parseProgress,
        onProgress: options.onProgress,
        onStdin: options.onStdin,
        onLine: (line, stream) => {
          if (line.trim().length > 0) this.log.info(line);
          options.onLine?.(line, stream);
        },
      });
      this.log.info(`${executable} finished in ${(result.durationMs / 1000).toFixed(1)} s`);
      return result;
    } catch (e) {
      this.log.error(e instanceof Error ? e.message : String(e));
      throw e;
    } finally {
      sub?.dispose();
      options.signal?.removeEventListener("abort", onSignal);
    }
  }
}

function quoteForLog(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}
