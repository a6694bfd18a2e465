// The agent tools over MCP (`gguf-studio mcp`), with the official SDK's Server and stdio transport.
// The tools themselves are src/core/agentTools, the same code VS Code's language-model tools call.
import { Transform, Writable, type Readable, type TransformCallback } from "node:stream";
import { Server } from "@modelcontextprotocol/sdk/server/index.js";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { CallToolRequestSchema, ErrorCode, JSONRPCMessageSchema, ListToolsRequestSchema, McpError } from "@modelcontextprotocol/sdk/types.js";
import { AGENT_TOOL_SPECS, isAgentToolName, runAgentTool, type AgentToolEnv } from "../core/agentTools";
import { ToolCancelledError } from "../core/native/toolRunner";
import packageJson from "../../package.json";

/** The server for one client; `envFor` builds the environment per call (its cancel signal). */
export function createMcpServer(envFor: (signal: AbortSignal) => AgentToolEnv): Server {
  const server = new Server(
    { name: "gguf-studio", version: packageJson.version },
    {
      capabilities: { tools: {} },
      instructions: "GGUF Studio inspects, estimates, lints and quantizes local GGUF models. Paths must lie in the workspace or a model folder.",
    },
  );
  server.setRequestHandler(ListToolsRequestSchema, () => ({
    tools: AGENT_TOOL_SPECS.map((s) => ({
      name: s.name,
      title: s.displayName,
      description: s.modelDescription,
      inputSchema: s.inputSchema as { type: "object"; properties?: Record<string, object>; required?: string[] },
      annotations: { title: s.displayName, readOnlyHint: !s.runsNativeTools, destructiveHint: false, openWorldHint: false },
    })),
  }));
  server.setRequestHandler(CallToolRequestSchema, async (request, extra) => {
    const { name, arguments: args } = request.params;
    if (!isAgentToolName(name)) throw new McpError(ErrorCode.InvalidParams, `unknown tool "${name.slice(0, 80)}" (tools: ${AGENT_TOOL_SPECS.map((s) => s.name).join(", ")})`);
    try {
      const result = await runAgentTool(name, args ?? {}, envFor(extra.signal));
      return { content: [{ type: "text" as const, text: result.text }], isError: result.isError };
    } catch (e) {
      if (e instanceof ToolCancelledError || extra.signal.aborted) return { content: [{ type: "text" as const, text: "Cancelled." }], isError: true };
      throw e;
    }
  });
  return server;
}

/** Lines longer than this are refused (and skipped) instead of being buffered without end. */
const MAX_LINE_BYTES = 8 * 2 ** 20;

/**
 * Passes well-formed JSON-RPC lines on to the SDK's transport and answers the rest itself: the
 * SDK only reports a malformed line to `onerror`, and a client waiting for a reply would hang.
 * Parse error (-32700) for text that is not JSON, invalid request (-32600) for JSON that is not
 * JSON-RPC, with the request's id when it has one.
 */
export function guardedInput(input: Readable, answer: (line: string) => void, onRequest?: (id: string | number) => void): Readable {
  let pending = "";
  let skipping = false;
  const reply = (id: unknown, code: number, message: string) =>
    answer(JSON.stringify({ jsonrpc: "2.0", id: typeof id === "string" || typeof id === "number" ? id : null, error: { code, message } }) + "\n");
  const check = (line: string, forward: (l: string) => void) => {
    if (line.trim() === "") return;
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch (e) {
      reply(null, ErrorCode.ParseError, `Parse error: ${e instanceof Error ? e.message.slice(0, 200) : "not JSON"}`);
      return;
    }
    const id = typeof parsed === "object" && parsed !== null ? (parsed as { id?: unknown }).id : undefined;
    if (!JSONRPCMessageSchema.safeParse(parsed).success) {
      reply(id, ErrorCode.InvalidRequest, "Invalid Request: not a JSON-RPC 2.0 message");
      return;
    }
    // The SDK answers a tools/call whose params do not parse with -32603 (internal error); it is -32602.
    if ((parsed as { method?: unknown }).method === "tools/call" && !CallToolRequestSchema.safeParse(parsed).success) {
      reply(id, ErrorCode.InvalidParams, "Invalid params: tools/call needs params.name (a string) and optional params.arguments (an object)");
      return;
    }
    if (typeof id === "string" || typeof id === "number") onRequest?.(id);
    forward(line + "\n");
  };
  const guard = new Transform({
    transform(chunk: Buffer, _enc, done: TransformCallback) {
      pending += chunk.toString("utf8");
      let nl: number;
      while ((nl = pending.indexOf("\n")) >= 0) {
        const line = pending.slice(0, nl).replace(/\r$/, "");
        pending = pending.slice(nl + 1);
        if (skipping) skipping = false;
        else check(line, (l) => this.push(l));
      }
      if (Buffer.byteLength(pending) > MAX_LINE_BYTES) {
        if (!skipping) reply(null, ErrorCode.InvalidRequest, `Invalid Request: a message longer than ${MAX_LINE_BYTES} bytes`);
        skipping = true;
        pending = "";
      }
      done();
    },
    flush(done: TransformCallback) {
      if (!skipping) check(pending, (l) => this.push(l));
      done();
    },
  });
  input.pipe(guard);
  input.on("error", (e) => guard.destroy(e));
  return guard;
}

/** Serves until stdin closes (after answering what was asked) or `signal` aborts. */
export async function serveMcpOverStdio(envFor: (signal: AbortSignal) => AgentToolEnv, signal: AbortSignal, log: (text: string) => void): Promise<void> {
  const server = createMcpServer(envFor);
  // Requests not yet answered: a client that writes its requests and closes stdin still gets the answers.
  const unanswered = new Set<string | number>();
  let inputEnded = false;
  const closeWhenAnswered = () => { if (inputEnded && unanswered.size === 0) void server.close(); };
  const input = guardedInput(process.stdin, (line) => { process.stdout.write(line); }, (id) => unanswered.add(id));
  const output = new Writable({
    write(chunk: Buffer, _enc, done) {
      try {
        const message = JSON.parse(chunk.toString("utf8")) as { id?: string | number; method?: string };
        if (message.method === undefined && message.id !== undefined) unanswered.delete(message.id);
      } catch {
        // Not ours to judge: the SDK serialized it.
      }
      process.stdout.write(chunk, (e) => { done(e); closeWhenAnswered(); });
    },
  });
  const transport = new StdioServerTransport(input, output);
  const closed = new Promise<void>((resolve) => {
    server.onclose = () => resolve();
    input.on("end", () => { inputEnded = true; closeWhenAnswered(); });
    signal.addEventListener("abort", () => void server.close(), { once: true });
  });
  // Logged on stderr (stdout is the protocol): what a client sent that could not be handled.
  server.onerror = (e) => log(`gguf-studio mcp: ${e.message.slice(0, 500)}\n`);
  await server.connect(transport);
  log(`gguf-studio mcp: serving ${AGENT_TOOL_SPECS.length} tools on stdio\n`);
  await closed;
}
