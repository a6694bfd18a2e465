// The tools GGUF Studio offers to chat agents: one name, model-facing description and JSON input
// schema each. VS Code's `contributes.languageModelTools` (package.json) and the MCP server
// (`gguf-studio mcp`) both publish these; a unit test keeps package.json equal to this table.

/** A JSON Schema object, as both VS Code and MCP take it. */
export interface JsonSchemaObject {
  readonly type: "object";
  readonly properties: Readonly<Record<string, object>>;
  readonly required?: readonly string[];
  readonly additionalProperties?: boolean;
}

export interface AgentToolSpec {
  /** VS Code tool name and MCP tool name. */
  readonly name: AgentToolName;
  /** `#name` in VS Code chat. */
  readonly referenceName: string;
  readonly displayName: string;
  /** What the language model reads to decide when and how to call the tool. */
  readonly modelDescription: string;
  readonly inputSchema: JsonSchemaObject;
  /** Runs llama.cpp tools and writes files: asks for confirmation, trusted workspaces only. */
  readonly runsNativeTools: boolean;
}

export const AGENT_TOOL_NAMES = ["gguf_inspect", "gguf_check_chat_template", "gguf_estimate_quant_size", "gguf_list_models", "gguf_quantize"] as const;
export type AgentToolName = (typeof AGENT_TOOL_NAMES)[number];

const modelPath = { type: "string", description: "Path of a .gguf file (any shard of a split set). Absolute, or relative to the first workspace folder." };
const quantType = { type: "string", description: "A llama-quantize type such as Q4_K_M, Q8_0, IQ4_XS or Q2_K." };
const recipePath = { type: "string", description: "Path of a GGUF Studio recipe (*.quant.json) giving per-tensor types." };

export const AGENT_TOOL_SPECS: readonly AgentToolSpec[] = [
  {
    name: "gguf_inspect",
    referenceName: "ggufInspect",
    displayName: "Inspect GGUF Model",
    modelDescription:
      "Reads a local GGUF model's header (never its weights) and returns its architecture, parameter count, file size, bits per weight, context length, chat-template presence, a table of tensor types (count, parameters, bytes) and bits per weight by tensor kind. Output is capped; the vocabulary is never listed.",
    inputSchema: {
      type: "object",
      properties: {
        path: modelPath,
        maxRows: { type: "integer", minimum: 1, maximum: 200, description: "Most rows per table (default 40)." },
      },
      required: ["path"],
      additionalProperties: false,
    },
    runsNativeTools: false,
  },
  {
    name: "gguf_check_chat_template",
    referenceName: "ggufCheckTemplate",
    displayName: "Lint and Audit Chat Template",
    modelDescription:
      "Lints a chat template against the Jinja engines that run GGUF models (llama.cpp, @huggingface/jinja, minja, Python Jinja2) and audits it for hidden instructions, URLs, content-dependent text and similar. Give the path of a .gguf (its tokenizer.chat_template keys), a tokenizer_config.json or a .jinja file, or the template text itself. Returns findings with rule ids, severities and template line:column; capped.",
    inputSchema: {
      type: "object",
      properties: {
        path: { type: "string", description: "A .gguf, tokenizer_config.json or .jinja file. Give this or `template`." },
        template: { type: "string", maxLength: 200000, description: "The template text itself. Give this or `path`." },
        mode: { type: "string", enum: ["lint", "audit", "both"], description: "lint (engine compatibility), audit (suspicious content) or both (default)." },
        maxFindings: { type: "integer", minimum: 1, maximum: 200, description: "Most findings listed (default 40)." },
      },
      additionalProperties: false,
    },
    runsNativeTools: false,
  },
  {
    name: "gguf_estimate_quant_size",
    referenceName: "ggufEstimateSize",
    displayName: "Estimate Quantized Size",
    modelDescription:
      "Estimates the file size and bits per weight of a local GGUF model quantized to a llama-quantize type (e.g. Q4_K_M) or with a GGUF Studio recipe (*.quant.json), without writing anything. Use it to pick a type that fits a size budget. Says whether the type needs an importance matrix.",
    inputSchema: {
      type: "object",
      properties: { model: modelPath, type: quantType, recipe: recipePath },
      required: ["model"],
      additionalProperties: false,
    },
    runsNativeTools: false,
  },
  {
    name: "gguf_list_models",
    referenceName: "ggufListModels",
    displayName: "List Local GGUF Models",
    modelDescription:
      "Lists the GGUF models on this machine that GGUF Studio can see: in the workspace folders, the configured model folders and the Hugging Face, LM Studio and llama.cpp caches. Returns each model's path, size and shard count; capped.",
    inputSchema: {
      type: "object",
      properties: {
        filter: { type: "string", description: "Only models whose path contains this text (case-insensitive)." },
        maxModels: { type: "integer", minimum: 1, maximum: 500, description: "Most models listed (default 100)." },
      },
      additionalProperties: false,
    },
    runsNativeTools: false,
  },
  {
    name: "gguf_quantize",
    referenceName: "ggufQuantize",
    displayName: "Quantize GGUF Model",
    modelDescription:
      "Quantizes a local GGUF model with llama.cpp's llama-quantize to a type (e.g. Q4_K_M) or with a recipe (*.quant.json), writing a new .gguf (the source is never modified; the output is verified before it is renamed into place). Needs the user's confirmation and a trusted workspace. Types that need an importance matrix need `imatrix`. Returns the output path, size and duration.",
    inputSchema: {
      type: "object",
      properties: {
        model: modelPath,
        type: quantType,
        recipe: recipePath,
        output: { type: "string", description: "Output .gguf path (default: <model stem>-<TYPE>.gguf beside the model)." },
        imatrix: { type: "string", description: "An existing importance-matrix file (.gguf or .dat)." },
        overwrite: { type: "boolean", description: "Replace an existing output file (default false)." },
        allowRequantize: { type: "boolean", description: "The source is already quantized and requantizing is intended (default false)." },
      },
      required: ["model"],
      additionalProperties: false,
    },
    runsNativeTools: true,
  },
];

export function agentToolSpec(name: string): AgentToolSpec | undefined {
  return AGENT_TOOL_SPECS.find((s) => s.name === name);
}
