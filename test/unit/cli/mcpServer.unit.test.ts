// `gguf-studio mcp` through the official SDK's client over stdio: the built CLI (dist/cli.js) in a
// child process, as an MCP client starts it.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { McpError } from "@modelcontextprotocol/sdk/types.js";
import { AGENT_TOOL_SPECS } from "../../../src/core/agentTools";
import { readGgufModel } from "../../../src/core/gguf";
import { locateTools } from "../../../src/core/native/toolLocator";

const ROOT = path.resolve(__dirname, "../../../..");
const CLI = path.join(ROOT, "dist", "cli.js");
const FIXTURE = path.join(ROOT, "test", "fixtures", "tiny-llama-f16.gguf");

type TextContent = { type: string; text: string }[];

async function connect(workspace: string, ...flags: string[]): Promise<Client> {
  const transport = new StdioClientTransport({
    command: process.execPath, args: [CLI, "mcp", "--workspace", workspace, "--no-caches", ...flags],
    cwd: workspace, stderr: "ignore", env: { PATH: process.env.PATH ?? "", HOME: os.homedir() },
  });
  const client = new Client({ name: "gguf-studio-test", version: "1.0.0" });
  await client.connect(transport);
  return client;
}

function text(result: object): string {
  return ((result as { content?: TextContent }).content ?? []).map((c) => c.text).join("\n");
}

describe("gguf-studio mcp (SDK client over stdio)", function () {
  this.timeout(120_000);
  let workspace: string;
  let client: Client;

  before(async () => {
    workspace = fs.mkdtempSync(path.join(os.tmpdir(), "gguf-mcp-ws-"));
    fs.copyFileSync(FIXTURE, path.join(workspace, "tiny-llama-f16.gguf"));
    client = await connect(workspace);
  });
  after(async () => {
    await client?.close();
    fs.rmSync(workspace, { recursive: true, force: true });
  });

  it("lists the five tools with their schemas", async () => {
    const { tools } = await client.listTools();
    assert.deepEqual(tools.map((t) => t.name), AGENT_TOOL_SPECS.map((s) => s.name));
    for (const t of tools) assert.deepEqual(t.inputSchema, AGENT_TOOL_SPECS.find((s) => s.name === t.name)?.inputSchema);
    assert.equal(tools.find((t) => t.name === "gguf_quantize")?.annotations?.readOnlyHint, false);
  });

  it("inspect on the fixture returns its facts", async () => {
    const r = await client.callTool({ name: "gguf_inspect", arguments: { path: "tiny-llama-f16.gguf" } });
    assert.equal(r.isError, false, text(r));
    const model = await readGgufModel(FIXTURE);
    assert.match(text(r), /- architecture: llama/);
    assert.match(text(r), new RegExp(`- tensors: ${model.tensors.length}\\b`));
    assert.match(text(r), /\| F16 \| 44 \|/);
  });

  it("estimate, list and template check answer too", async () => {
    const est = await client.callTool({ name: "gguf_estimate_quant_size", arguments: { model: "tiny-llama-f16.gguf", type: "Q4_K_M" } });
    assert.match(text(est), /^Q4_K_M of tiny-llama-f16.gguf: about [\d.]+ MiB/);
    const list = await client.callTool({ name: "gguf_list_models", arguments: {} });
    assert.ok(text(list).includes(path.join(fs.realpathSync(workspace), "tiny-llama-f16.gguf")) || text(list).includes(path.join(workspace, "tiny-llama-f16.gguf")), text(list));
    const tpl = await client.callTool({ name: "gguf_check_chat_template", arguments: { path: "tiny-llama-f16.gguf" } });
    assert.equal(tpl.isError, false, text(tpl));
    assert.match(text(tpl), /tokenizer\.chat_template: \d+ finding/);
  });

  it("refuses a path outside the workspace, and quantizing without --allow-native", async () => {
    const out = await client.callTool({ name: "gguf_inspect", arguments: { path: FIXTURE } });
    assert.equal(out.isError, true);
    assert.match(text(out), /Refused \(outside-roots\): Model .* is outside the workspace and the model folders/);
    const q = await client.callTool({ name: "gguf_quantize", arguments: { model: "tiny-llama-f16.gguf", type: "Q8_0" } });
    assert.equal(q.isError, true);
    assert.match(text(q), /--allow-native/);
    assert.deepEqual(fs.readdirSync(workspace), ["tiny-llama-f16.gguf"]);
  });

  it("an unknown tool is a protocol error (invalid params), and the server keeps serving", async () => {
    await assert.rejects(client.callTool({ name: "no_such_tool", arguments: {} }), (e: unknown) => e instanceof McpError && e.code === -32602);
    assert.equal((await client.listTools()).tools.length, AGENT_TOOL_SPECS.length);
  });

  it("malformed lines get JSON-RPC errors, never a crash", async () => {
    const child = spawn(process.execPath, [CLI, "mcp", "--workspace", workspace, "--no-caches"], { stdio: ["pipe", "pipe", "ignore"] });
    let out = "";
    child.stdout.on("data", (d: Buffer) => { out += d.toString(); });
    const exited = new Promise<number | null>((resolve) => child.on("exit", resolve));
    child.stdin.write("this is not json\n");
    child.stdin.write('{"hello":"world","id":5}\n');
    child.stdin.write('{"jsonrpc":"2.0","id":6,"method":"tools/call","params":{"arguments":[]}}\n');
    child.stdin.write(`${JSON.stringify({ jsonrpc: "2.0", id: 7, method: "initialize", params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "raw", version: "1" } } })}\n`);
    child.stdin.end();
    assert.equal(await exited, 0);
    const replies = out.trim().split("\n").map((l) => JSON.parse(l) as { id: unknown; error?: { code: number }; result?: unknown });
    assert.deepEqual(replies.map((r) => [r.id, r.error?.code ?? "ok"]), [[null, -32700], [5, -32600], [6, -32602], [7, "ok"]]);
  });

  it("with --allow-native it quantizes the fixture into the workspace (real llama-quantize)", async function () {
    const tool = locateTools({ extensionRoot: ROOT }).found["llama-quantize"];
    if (!tool) this.skip(); // bin/ not built on this machine (npm run build:native)
    const native = await connect(workspace, "--allow-native");
    try {
      const r = await native.callTool({ name: "gguf_quantize", arguments: { model: "tiny-llama-f16.gguf", type: "Q8_0" } });
      assert.equal(r.isError, false, text(r));
      const output = path.join(workspace, "tiny-llama-f16-Q8_0.gguf");
      assert.match(text(r), /Quantized tiny-llama-f16.gguf to .*tiny-llama-f16-Q8_0.gguf/);
      const model = await readGgufModel(output);
      assert.ok(model.tensors.some((t) => t.typeName === "Q8_0"));
      const again = await native.callTool({ name: "gguf_quantize", arguments: { model: "tiny-llama-f16.gguf", type: "Q8_0" } });
      assert.match(text(again), /already exists/);
    } finally {
      await native.close();
    }
  });
});
