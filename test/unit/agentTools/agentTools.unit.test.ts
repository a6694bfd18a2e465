// The agent tools' core (src/core/agentTools) on the real fixtures: what VS Code's language-model
// tools and the MCP server both return. The template engines are the real worker processes.
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { AGENT_TOOL_SPECS, runAgentTool, type AgentToolEnv, type AgentToolName } from "../../../src/core/agentTools";
import { capText, MAX_TOOL_OUTPUT_CHARS } from "../../../src/core/agentTools/boundedText";
import { readGgufModel, summarizeGguf } from "../../../src/core/gguf";
import { EngineSet } from "../../../src/core/templates/engines";

const ROOT = path.resolve(__dirname, "../../../..");
const FIXTURES = path.join(ROOT, "test", "fixtures");

describe("agent tools (core)", function () {
  this.timeout(60_000);
  let workspace: string;
  let outside: string;
  let engines: EngineSet;
  let env: AgentToolEnv;
  const run = (name: AgentToolName, input: unknown, e: AgentToolEnv = env) => runAgentTool(name, input, e);

  before(() => {
    workspace = fs.mkdtempSync(path.join(os.tmpdir(), "gguf-agent-ws-"));
    outside = fs.mkdtempSync(path.join(os.tmpdir(), "gguf-agent-out-"));
    for (const f of ["tiny-llama-f16.gguf", "tiny-moe-f16.gguf"]) fs.copyFileSync(path.join(FIXTURES, f), path.join(workspace, f));
    fs.copyFileSync(path.join(FIXTURES, "tiny-llama-f16.gguf"), path.join(outside, "elsewhere.gguf"));
    fs.copyFileSync(path.join(FIXTURES, "templates-poisoned", "04-url-beacon.jinja"), path.join(workspace, "beacon.jinja"));
    // A link inside the workspace that leads outside it.
    fs.symlinkSync(path.join(outside, "elsewhere.gguf"), path.join(workspace, "link.gguf"));
    engines = new EngineSet({ root: ROOT, allowPython: () => false });
    env = {
      roots: [workspace], baseDir: workspace, nativeAllowed: false, nativeRefusal: "native tools are off in this test",
      executables: () => ({}), engines: () => engines, templateTargets: () => ["hf-jinja"],
    };
  });
  after(() => {
    engines.dispose();
    fs.rmSync(workspace, { recursive: true, force: true });
    fs.rmSync(outside, { recursive: true, force: true });
  });

  it("package.json contributes exactly these tools, with the same schemas and descriptions", () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")) as { contributes: { languageModelTools: { name: string; modelDescription: string; inputSchema: unknown; toolReferenceName: string; displayName: string }[] }; activationEvents: string[] };
    const contributed = pkg.contributes.languageModelTools;
    assert.deepEqual(contributed.map((t) => t.name), AGENT_TOOL_SPECS.map((s) => s.name));
    for (const spec of AGENT_TOOL_SPECS) {
      const t = contributed.find((c) => c.name === spec.name);
      assert.ok(t);
      assert.deepEqual(t.inputSchema, spec.inputSchema, spec.name);
      assert.equal(t.modelDescription, spec.modelDescription);
      assert.equal(t.toolReferenceName, spec.referenceName);
      assert.equal(t.displayName, spec.displayName);
    }
  });

  it("inspect returns the model's facts and its tensor-type table", async () => {
    const r = await run("gguf_inspect", { path: "tiny-moe-f16.gguf" });
    assert.equal(r.isError, false, r.text);
    const s = summarizeGguf(await readGgufModel(path.join(workspace, "tiny-moe-f16.gguf")));
    assert.match(r.text, new RegExp(`parameters: ${s.parameterCount.toLocaleString("en-US")}`));
    assert.match(r.text, new RegExp(`experts \\(used\\): ${s.architecture.expertCount} \\(${s.architecture.expertUsedCount}\\)`));
    for (const h of s.typeHistogram) assert.match(r.text, new RegExp(`\\| ${h.typeName} \\| ${h.tensorCount} \\|`));
    assert.ok(!r.text.includes("tokenizer.ggml.tokens"), "no vocabulary");
  });

  it("inspect caps its tables at maxRows and says how many rows were left out", async () => {
    const r = await run("gguf_inspect", { path: "tiny-moe-f16.gguf", maxRows: 2 });
    const kinds = summarizeGguf(await readGgufModel(path.join(workspace, "tiny-moe-f16.gguf"))).byKind.length;
    assert.match(r.text, new RegExp(`\\(${kinds - 2} more rows not shown\\)`));
  });

  it("every output is capped, whatever the input", () => {
    const huge = "x".repeat(10).concat("\n").repeat(10_000);
    const capped = capText(huge);
    assert.ok(capped.length <= MAX_TOOL_OUTPUT_CHARS, `${capped.length}`);
    assert.match(capped, /output cut at 16000 characters \(110000 in all\)/);
  });

  it("a path outside the workspace and the model folders is refused with the reason", async () => {
    for (const p of [path.join(outside, "elsewhere.gguf"), "../" + path.basename(outside) + "/elsewhere.gguf", "link.gguf", "/etc/passwd"]) {
      const r = await run("gguf_inspect", { path: p });
      assert.equal(r.isError, true, p);
      assert.match(r.text, /Refused \(outside-roots\): Model .* is outside the workspace and the model folders/, p);
      assert.ok(r.text.includes(fs.realpathSync(workspace)), "names the allowed folders");
    }
  });

  it("bad input is refused naming the field", async () => {
    assert.match((await run("gguf_inspect", {})).text, /Refused \(bad-input\): `path` is required/);
    assert.match((await run("gguf_inspect", { path: 3 })).text, /`path` must be a string/);
    assert.match((await run("gguf_inspect", { path: "tiny-llama-f16.gguf", extra: 1 })).text, /unknown input field\(s\): "extra"/);
    assert.match((await run("gguf_inspect", "tiny-llama-f16.gguf")).text, /the input must be a JSON object/);
    assert.match((await run("gguf_inspect", { path: "missing.gguf" })).text, /Refused \(not-found\)/);
    assert.match((await run("gguf_inspect", { path: "beacon.jinja" })).text, /Not a usable GGUF: .*\(bad-magic\)/);
    assert.match((await run("gguf_estimate_quant_size", { model: "tiny-llama-f16.gguf", type: "Q9_X" })).text, /"Q9_X" is not a llama-quantize type/);
    assert.match((await run("gguf_estimate_quant_size", { model: "tiny-llama-f16.gguf" })).text, /give exactly one of `type`/);
  });

  it("estimate gives the resolver's size for a type without native tools", async () => {
    const r = await run("gguf_estimate_quant_size", { model: "tiny-llama-f16.gguf", type: "Q8_0" });
    assert.equal(r.isError, false, r.text);
    const m = /about ([\d.]+) MiB \(([\d.]+) bpw\)/.exec(r.text);
    assert.ok(m, r.text);
    // Q8_0 is 8.5 bpw for the quantized 2-D weights; the 1-D norms stay F32.
    assert.ok(Number(m[2]) > 8.4 && Number(m[2]) < 8.7, m[2]);
    assert.match(r.text, /\| Q8_0 \| 44 \|/);
    assert.match(r.text, /llama.cpp tools do not run here/);
  });

  it("estimate resolves a recipe file", async () => {
    const recipe = path.join(workspace, "mixed.quant.json");
    fs.writeFileSync(recipe, JSON.stringify({ version: 1, baseType: "Q4_K", rules: [{ pattern: "ffn_down", type: "Q8_0" }] }));
    const r = await run("gguf_estimate_quant_size", { model: "tiny-llama-f16.gguf", recipe: "mixed.quant.json" });
    assert.equal(r.isError, false, r.text);
    assert.match(r.text, /Recipe mixed.quant.json on tiny-llama-f16.gguf: about/);
    assert.match(r.text, /\| Q8_0 \| 6 \|/);
    assert.match(r.text, /\| Q4_K \| 38 \|/);
  });

  it("list models finds the workspace's models, with a filter", async () => {
    const all = await run("gguf_list_models", {});
    assert.match(all.text, /^3 model\(s\)/);
    for (const f of ["tiny-llama-f16.gguf", "tiny-moe-f16.gguf"]) assert.ok(all.text.includes(path.join(workspace, f)), f);
    const moe = await run("gguf_list_models", { filter: "MOE" });
    assert.match(moe.text, /^1 model\(s\) matching "moe"/);
  });

  it("template check lints a GGUF's template and audits a poisoned one", async () => {
    const gguf = await run("gguf_check_chat_template", { path: "tiny-llama-f16.gguf", mode: "lint" });
    assert.equal(gguf.isError, false, gguf.text);
    assert.match(gguf.text, /## tokenizer\.chat_template: \d+ finding\(s\)/);
    assert.match(gguf.text, /engines: hf-jinja/);
    const poisoned = await run("gguf_check_chat_template", { path: "beacon.jinja", mode: "audit" });
    assert.match(poisoned.text, /audit\/url at line \d+:\d+/);
    const inline = await run("gguf_check_chat_template", { template: "{% for m in messages %}{{ m.content }}{% endfor %", mode: "lint" });
    assert.match(inline.text, /error syntax-error/);
  });

  it("quantize refuses where native tools may not run, before anything else happens", async () => {
    const r = await run("gguf_quantize", { model: "tiny-llama-f16.gguf", type: "Q8_0" });
    assert.equal(r.isError, true);
    assert.match(r.text, /Refused \(native-not-allowed\): native tools are off in this test/);
    assert.ok(!fs.existsSync(path.join(workspace, "tiny-llama-f16-Q8_0.gguf")));
    const outsideOutput = await run("gguf_quantize", { model: "tiny-llama-f16.gguf", type: "Q8_0", output: path.join(outside, "x.gguf") }, { ...env, nativeAllowed: true });
    assert.match(outsideOutput.text, /Refused \(outside-roots\): Output/);
  });
});
