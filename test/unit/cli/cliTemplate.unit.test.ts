// `gguf-studio template lint|fix|set` on the tiny-llama fixture, with the real engines.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { promises as fsp } from "node:fs";
import os from "node:os";
import path from "node:path";
import { runCli } from "../../../src/cli/main";
import { readGgufFile } from "../../../src/core/gguf";
import { readGgufTemplates } from "../../../src/core/templates/sources";

const ROOT = path.resolve(__dirname, "../../../..");
const LLAMA = path.join(ROOT, "test/fixtures/tiny-llama-f16.gguf");
const KEY = "tokenizer.chat_template";

async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const code = await runCli(argv, { out: (t) => { out += t; }, err: (t) => { err += t; }, signal: new AbortController().signal });
  return { code, out, err };
}

interface LintJson {
  templates: { name: string; findings: { ruleId: string; engine: string | null; severity: string; range: { line: number; column: number; start: number } }[] }[];
}

/** SHA-256 of every tensor's bytes, by name, at the offsets and sizes the core reader gives. */
async function tensorHashes(file: string): Promise<Map<string, string>> {
  const info = await readGgufFile(file);
  const data = await fsp.readFile(file);
  const out = new Map<string, string>();
  for (const t of info.tensors) {
    assert.ok(t.byteSize !== undefined && t.byteSize > 0 && t.fileOffset + t.byteSize <= data.length, t.name);
    out.set(t.name, createHash("sha256").update(data.subarray(t.fileOffset, t.fileOffset + t.byteSize)).digest("hex"));
  }
  return out;
}

describe("gguf-studio template", function () {
  this.timeout(120_000);
  let dir: string;
  let original: string;
  let broken: string;
  before(async () => {
    dir = await fsp.mkdtemp(path.join(os.tmpdir(), "gguf-cli-template-"));
    const t = (await readGgufTemplates(LLAMA)).templates.get(KEY);
    assert.ok(t !== undefined && t.includes("message['content']"), "the fixture carries a ChatML template");
    original = t;
    const at = original.indexOf("message['content']") + "message['content']".length;
    broken = original.slice(0, at) + ".split('x', 1)[0]" + original.slice(at);
  });
  after(async () => { await fsp.rm(dir, { recursive: true, force: true }); });

  it("lints the fixture's own template clean (no error-level finding, exit 0)", async () => {
    const file = path.join(dir, "clean.jinja");
    await fsp.writeFile(file, original);
    const r = await cli("template", "lint", file, "--json");
    assert.equal(r.code, 0, r.err + r.out);
    const j = JSON.parse(r.out) as LintJson;
    assert.equal(j.templates.length, 1);
    assert.deepEqual(j.templates[0].findings.filter((f) => f.severity === "error"), []);
    assert.ok(!j.templates[0].findings.some((f) => f.ruleId === "compat/split-maxsplit"));
  });

  it("lints a GGUF's template with the model's tokens", async () => {
    const r = await cli("template", "lint", LLAMA, "--target", "llama.cpp");
    assert.equal(r.code, 0, r.err + r.out);
    assert.match(r.out, /in 1 template\(s\); targets: llama\.cpp\n$/);
  });

  it("reports split(sep, 1) for minja with rule id, engine and line:col", async () => {
    const file = path.join(dir, "broken.jinja");
    await fsp.writeFile(file, broken);
    const json = await cli("template", "lint", file, "--target", "minja", "--json");
    const j = JSON.parse(json.out) as LintJson;
    const hit = j.templates[0].findings.find((f) => f.ruleId === "compat/split-maxsplit");
    assert.ok(hit, JSON.stringify(j.templates[0].findings.map((f) => f.ruleId)));
    assert.equal(hit.engine, "minja");
    const before = broken.slice(0, hit.range.start);
    assert.equal(hit.range.line, before.split("\n").length);
    assert.equal(hit.range.column, before.length - before.lastIndexOf("\n"));
    assert.ok(broken.slice(hit.range.start).startsWith("split('x', 1)"));
    const text = await cli("template", "lint", file, "--target", "minja");
    // A warning when minja's render confirms it; without the minja binary it cannot, and the
    // prediction is an info about minja builds.
    const minjaRan = !/minja .* skipped/.test(text.err);
    assert.ok(text.out.includes(`${file}:${hit.range.line}:${hit.range.column}: ${minjaRan ? "warning" : "info"} compat/split-maxsplit [minja`), text.out);
    assert.ok(text.out.includes("fix (safe): Rewrite split(sep, 1) without maxsplit"), text.out);
  });

  it("lints chat_template inside tokenizer_config.json at JSON positions", async () => {
    const file = path.join(dir, "tokenizer_config.json");
    const json = JSON.stringify({ bos_token: "<s>", chat_template: broken }, null, 2);
    await fsp.writeFile(file, json);
    const r = await cli("template", "lint", file, "--target", "minja", "--json");
    const hit = (JSON.parse(r.out) as LintJson).templates[0].findings.find((f) => f.ruleId === "compat/split-maxsplit");
    assert.ok(hit);
    assert.ok(json.slice(hit.range.start).startsWith("split('x', 1)"), json.slice(hit.range.start, hit.range.start + 20));
    assert.equal(hit.range.line, 3, "chat_template is on the third line of the JSON");
  });

  it("fix writes a template that no longer triggers the rule and renders like the original", async () => {
    const file = path.join(dir, "tofix.jinja");
    await fsp.writeFile(file, broken);
    const out = path.join(dir, "fixed.jinja");
    const r = await cli("template", "fix", file, "--target", "minja", "--out", out);
    assert.equal(r.code, 0, r.err);
    assert.match(r.err, /applied verified fix: Rewrite split\(sep, 1\) without maxsplit/);
    assert.equal(await fsp.readFile(file, "utf8"), broken, "the source is not modified");
    const fixed = await fsp.readFile(out, "utf8");
    assert.ok(fixed.includes("message['content'].split('x')[0]"), fixed);
    const again = JSON.parse((await cli("template", "lint", out, "--target", "minja", "--json")).out) as LintJson;
    assert.ok(!again.templates[0].findings.some((f) => f.ruleId === "compat/split-maxsplit"));
  });

  it("fix on a GGUF needs --out and writes a new GGUF with the fixed template", async () => {
    const model = path.join(dir, "broken.gguf");
    assert.equal((await cli("template", "set", LLAMA, path.join(dir, "broken.jinja"), model)).code, 0);
    assert.equal((await cli("template", "fix", model)).code, 2, "refuses without --out");
    const out = path.join(dir, "broken.fixed.gguf");
    const r = await cli("template", "fix", model, "--target", "minja", "--out", out);
    assert.equal(r.code, 0, r.err);
    const t = (await readGgufTemplates(out)).templates.get(KEY);
    assert.ok(t?.includes("message['content'].split('x')[0]"), t);
    assert.equal((await readGgufTemplates(model)).templates.get(KEY), broken, "the source GGUF is untouched");
  });

  it("set writes a new GGUF whose template reads back and whose tensors are unchanged", async () => {
    const tpl = path.join(dir, "new.jinja");
    const text = "{% for m in messages %}<|{{ m.role }}|>{{ m.content }}\n{% endfor %}{% if add_generation_prompt %}<|assistant|>{% endif %}";
    await fsp.writeFile(tpl, text);
    const out = path.join(dir, "set.gguf");
    const r = await cli("template", "set", LLAMA, tpl, out);
    assert.equal(r.code, 0, r.err);
    assert.equal((await readGgufTemplates(out)).templates.get(KEY), text);
    const [a, b] = await Promise.all([tensorHashes(LLAMA), tensorHashes(out)]);
    assert.equal(b.size, a.size);
    assert.deepEqual([...b], [...a]);
    const [src, dst] = await Promise.all([readGgufFile(LLAMA), readGgufFile(out)]);
    assert.deepEqual([...dst.metadata.keys()], [...src.metadata.keys()], "key order kept");
  });

  it("fails clearly on bad usage and bad input", async () => {
    assert.equal((await cli("template")).code, 2);
    assert.equal((await cli("template", "bogus")).code, 2);
    assert.equal((await cli("template", "lint", path.join(dir, "broken.jinja"), "--target", "nope")).code, 2);
    const missing = await cli("template", "lint", path.join(dir, "missing.jinja"));
    assert.equal(missing.code, 1);
    assert.match(missing.err, /ENOENT|no such file/);
    assert.equal((await cli("template", "set", LLAMA, path.join(dir, "broken.jinja"), LLAMA)).code, 1, "never overwrites the source");
    const bare = path.join(dir, "no-template.gguf");
    assert.equal((await cli("set-metadata", LLAMA, bare, "--remove", KEY)).code, 0);
    const none = await cli("template", "lint", bare);
    assert.equal(none.code, 1);
    assert.match(none.err, /has no chat template/);
  });
});
