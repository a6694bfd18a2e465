// `gguf-studio mcp`: the agent tools (inspect, template check, size estimate, list, quantize) as an
// MCP server on stdio, for MCP clients (VS Code's mcp.json, Claude Desktop, Cursor, …).
import os from "node:os";
import path from "node:path";
import type { AgentToolEnv } from "../../core/agentTools";
import { candidateSources, existingSources } from "../../core/models/modelSources";
import { locateTools } from "../../core/native/toolLocator";
import { EngineSet, findStudioRoot } from "../../core/templates/engines";
import { ENGINE_IDS } from "../../core/templates/types";
import { CliCommand, CliUsageError, parseFlags, rejectUnknownFlags } from "../cliCommand";
import { serveMcpOverStdio } from "../mcpServer";

export const mcpCommand: CliCommand = {
  name: "mcp",
  summary: "serve GGUF Studio's tools to AI agents over MCP (stdio)",
  usage: `usage: gguf-studio mcp [--workspace DIR] [--model-folder DIR]... [--allow-native] [--tools DIR] [--no-caches]

Speaks the Model Context Protocol on stdin/stdout. Tools: gguf_inspect, gguf_check_chat_template,
gguf_estimate_quant_size, gguf_list_models, gguf_quantize.
Paths outside the workspace and the model folders are refused.
  --workspace DIR     the workspace folder (default: the current folder); relative paths start here
  --model-folder DIR  another folder tools may read and write in (repeatable)
  --no-caches         leave out the Hugging Face, LM Studio and llama.cpp caches
  --allow-native      let tools run llama.cpp (quantize, dry-run estimates, native template engines);
                      off by default, like an untrusted workspace in VS Code
  --tools DIR         folder holding llama-quantize (default: bundled bin/, then PATH)
`,
  async run(args, io) {
    const { flags, positional } = parseFlags(args, ["workspace", "model-folder", "tools"]);
    rejectUnknownFlags(flags, ["workspace", "model-folder", "tools", "allow-native", "no-caches"]);
    if (positional.length > 0) throw new CliUsageError(`unexpected argument "${positional[0]}"`);
    const workspace = path.resolve(flags.get("workspace")?.at(-1) ?? process.cwd());
    const caches = !flags.has("no-caches");
    const nativeAllowed = flags.has("allow-native");
    const sources = candidateSources(
      { workspaceFolders: [{ name: path.basename(workspace), path: workspace }], modelFolders: flags.get("model-folder") ?? [], scanHuggingFaceCache: caches, scanLmStudio: caches, scanLlamaCppCache: caches },
      { home: os.homedir(), env: process.env, platform: process.platform },
    );
    const root = findStudioRoot(__dirname);
    if (!root) throw new Error("cannot find the gguf-studio package (dist/native-render-worker.js) above this script");
    let engines: EngineSet | undefined;
    const toolsDir = flags.get("tools")?.at(-1) ?? process.env.GGUF_STUDIO_LLAMA_CPP;
    const envFor = (signal: AbortSignal): AgentToolEnv => ({
      roots: sources.map((s) => s.root),
      baseDir: workspace,
      nativeAllowed,
      nativeRefusal: "this MCP server does not run llama.cpp tools: start it with `gguf-studio mcp --allow-native` to allow quantizing",
      executables: () => {
        const found = locateTools({ configuredDir: toolsDir, extensionRoot: root }).found;
        return { quantize: found["llama-quantize"]?.path, imatrix: found["llama-imatrix"]?.path };
      },
      engines: () => (engines ??= new EngineSet({ root, allowPython: () => nativeAllowed })),
      templateTargets: () => (nativeAllowed ? [...ENGINE_IDS] : ["hf-jinja"]),
      listRoots: async () => (await existingSources(sources)).map((s) => ({ label: s.label, root: s.root })),
      signal: AbortSignal.any([signal, io.signal]),
    });
    try {
      await serveMcpOverStdio(envFor, io.signal, io.err);
    } finally {
      engines?.dispose();
    }
    return 0;
  },
};
