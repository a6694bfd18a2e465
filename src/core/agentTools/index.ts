// The agent tools' one entry point: the VS Code language-model tools and the MCP server both call
// runAgentTool; neither has tool logic of its own.
import { isGgufError } from "../gguf";
import { boundedMessage } from "../../shared/displayText";
import { ToolCancelledError } from "../native/toolRunner";
import { AgentToolRefusal, type AgentToolEnv, type AgentToolResult } from "./agentToolEnv";
import { capText } from "./boundedText";
import { inspectForAgent } from "./inspectTool";
import { listModelsForAgent } from "./listModelsTool";
import { quantizeForAgent } from "./quantizeTool";
import { estimateForAgent } from "./sizeEstimateTool";
import { checkTemplateForAgent } from "./templateTool";
import type { AgentToolName } from "./toolSpecs";

export * from "./agentToolEnv";
export * from "./toolSpecs";
export { describePlan, planQuantize, type QuantizePlan } from "./quantizeTool";
export { allowedPath, allowedExistingFile } from "./pathPolicy";

const RUNNERS: Record<AgentToolName, (input: unknown, env: AgentToolEnv) => Promise<string>> = {
  gguf_inspect: inspectForAgent,
  gguf_check_chat_template: checkTemplateForAgent,
  gguf_estimate_quant_size: estimateForAgent,
  gguf_list_models: listModelsForAgent,
  gguf_quantize: quantizeForAgent,
};

export function isAgentToolName(name: string): name is AgentToolName {
  return Object.hasOwn(RUNNERS, name);
}

/**
 * Runs a tool. Refusals and failures come back as error results with their reason (the model can
 * correct its call); only a cancellation is thrown, so the host can report it as one.
 */
export async function runAgentTool(name: AgentToolName, input: unknown, env: AgentToolEnv): Promise<AgentToolResult> {
  try {
    return { text: capText(await RUNNERS[name](input, env)), isError: false };
  } catch (e) {
    if (e instanceof ToolCancelledError || env.signal?.aborted) throw e;
    const reason = e instanceof AgentToolRefusal ? `Refused (${e.code}): ${e.message}`
      : isGgufError(e) ? `Not a usable GGUF: ${e.message} (${e.code})`
        : `Failed: ${e instanceof Error ? e.message : String(e)}`;
    return { text: capText(boundedMessage(reason)), isError: true };
  }
}
