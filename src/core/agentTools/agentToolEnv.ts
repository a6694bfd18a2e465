// What an agent tool may touch and use, supplied by its host: the VS Code extension (workspace
// trust, settings, its logging tool runner) or the MCP server (command-line flags).
import type { EngineId } from "../templates/types";
import type { EngineSet } from "../templates/engines";
import type { ToolInvoker } from "../quant/quantizeJob";

export interface AgentToolEnv {
  /** Folders tools may read and write in: the workspace folders and the model folders (absolute). */
  readonly roots: readonly string[];
  /** Where relative paths start (the first workspace folder). */
  readonly baseDir: string;
  /** Whether llama.cpp tools may run (a trusted workspace, or `gguf-studio mcp --allow-native`). */
  readonly nativeAllowed: boolean;
  /** Said when a native run is refused: how the user allows it. */
  readonly nativeRefusal: string;
  /** llama-quantize / llama-imatrix executables, when found. */
  readonly executables: () => { readonly quantize?: string; readonly imatrix?: string };
  /** Runs a native tool (the host passes its trust-checking, logging runner). */
  readonly invoke?: ToolInvoker;
  /** The template engines (created on first use by the host, shared across calls). */
  readonly engines: () => EngineSet;
  /** Engines to lint against (untrusted: the JavaScript engine only). */
  readonly templateTargets: () => readonly EngineId[];
  /** Sources for `gguf_list_models` beyond the roots' scan. */
  readonly listRoots?: () => Promise<readonly { readonly label: string; readonly root: string }[]>;
  readonly signal?: AbortSignal;
  /** Progress of long runs (quantize), for a host progress UI. */
  readonly onProgress?: (message: string, fraction?: number) => void;
}

export type AgentToolRefusalCode = "bad-input" | "outside-roots" | "native-not-allowed" | "not-found" | "tool-missing";

/** A call the tool will not carry out, with the reason the agent (and the user) can act on. */
export class AgentToolRefusal extends Error {
  constructor(readonly code: AgentToolRefusalCode, message: string) {
    super(message);
    this.name = "AgentToolRefusal";
  }
}

/** What every tool returns: one bounded text for the model, and whether it is an error. */
export interface AgentToolResult {
  readonly text: string;
  readonly isError: boolean;
}
