// Precision: what real templates showed (issue 13). False errors and unconfirmed warnings make
// users turn a linter off, so every error-level finding must be reproduced by a render on the
// engine it names, and rules about engines we ran are confirmed by their render.
import assert from "node:assert/strict";
import { applyEdits, ENGINE_IDS, lintTemplate, type EngineSet, type LintResult, type TemplateFinding } from "../../../src/core/templates/index";
import { tokenizerConfigTokens } from "../../../src/core/templates/sources";
import { createEngines, studioRoot } from "./helpers";
import { realTemplateCorpus } from "./realCorpus";

const CHATML_ONE_LINE =
  "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";
const LLAMA2_ONE_LINE =
  "{{ bos_token }}{% for message in messages %}{% if message['role'] == 'user' %}{{ '[INST] ' + message['content'] + ' [/INST]' }}{% elif message['role'] == 'assistant' %}{{ ' ' + message['content'] + eos_token }}{% elif message['role'] == 'system' %}{{ '<<SYS>>\\n' + message['content'] + '\\n<</SYS>>\\n\\n' }}{% endif %}{% endfor %}";

const ids = (fs: readonly TemplateFinding[], severity?: string) => fs.filter((f) => !severity || f.severity === severity).map((f) => `${f.ruleId}${f.engine ? ` [${f.engine}]` : ""}`);

describe("chat templates: precision", function () {
  this.timeout(300_000);
  let engines: EngineSet;
  const lint = (text: string, targets = ENGINE_IDS) => lintTemplate(engines, text, { targets, verifyFixes: true });

  before(() => {
    engines = createEngines();
  });
  after(() => engines.dispose());

  it("one-line ChatML and Llama-2 templates with '\\n' in string literals are not JSON-escaped", async () => {
    for (const t of [CHATML_ONE_LINE, LLAMA2_ONE_LINE]) {
      const r = await lint(t);
      assert.deepEqual(ids(r.findings).filter((x) => x.startsWith("source/")), []);
      assert.deepEqual(ids(r.findings, "error"), []);
    }
  });

  it("a template pasted still JSON-escaped is an error, confirmed by its render", async () => {
    const pasted = JSON.stringify("{% for m in messages %}<|{{ m.role }}|>\n{{ m.content }}\n{% endfor %}{% if add_generation_prompt %}<|assistant|>\n{% endif %}").slice(1, -1);
    const r = await lint(pasted);
    const f = r.findings.find((x) => x.ruleId === "source/json-escaped");
    assert.equal(f?.severity, "error");
    assert.ok(f?.fixes?.[0]?.safe === false, "unescaping changes the output, so it is not a silent fix");
  });

  it("decides the missing generation prompt by rendering", async () => {
    const noPrompt = "{% for m in messages %}{{ '<|im_start|>' + m.role + '\\n' + m.content + '<|im_end|>\\n' }}{% endfor %}";
    const r = await lint(noPrompt);
    assert.ok(ids(r.findings, "warning").includes("semantic/missing-generation-prompt"), ids(r.findings).join(", "));
    // Templates that open the assistant turn after every user message never read the variable.
    const phi3 = "{{ bos_token }}{% for m in messages %}{% if m.role == 'user' %}{{ '<|user|>\\n' + m.content + '<|end|>\\n<|assistant|>\\n' }}{% elif m.role == 'assistant' %}{{ m.content + '<|end|>\\n' }}{% endif %}{% endfor %}";
    const alpaca = "{% for m in messages %}{% if m.role == 'user' %}{{ '### Instruction:\\n' + m.content + '\\n\\n@@ Response\\n' }}{% else %}{{ m.content + '\\n\\n' }}{% endif %}{% endfor %}";
    for (const t of [phi3, LLAMA2_ONE_LINE, alpaca]) {
      const x = await lint(t);
      assert.ok(!ids(x.findings).includes("semantic/missing-generation-prompt"), `${t.slice(0, 40)}: ${ids(x.findings).join(", ")}`);
    }
  });

  it("silent loss of the system prompt under llama.cpp ({% continue %} after output, as in EXAONE) is an error at the construct", async () => {
    const exaone =
      "{%- for message in messages %}{%- if message.role == 'system' %}{{ '[|system|]' + message.content + '[|endofturn|]\\n' }}{%- continue %}{%- endif %}{{ '[|' + message.role + '|]' + message.content + '[|endofturn|]\\n' }}{%- endfor %}{%- if add_generation_prompt %}[|assistant|]{%- endif %}";
    const r = await lint(exaone, ["llama.cpp"]);
    const f = r.findings.find((x) => x.ruleId === "content-loss" && x.engine === "llama.cpp");
    assert.equal(f?.severity, "error", ids(r.findings).join(", "));
    assert.match(f?.message ?? "", /You are a helpful assistant/);
    assert.ok((f?.range.start ?? 0) > 0, "located by bisecting the render, not at 1:1");
  });

  it("a rule about an engine that renders the template fine is an info about other engine versions, never a warning", async () => {
    const qwen = "{%- for message in messages[::-1] %}{%- set index = (messages|length - 1) - loop.index0 %}{{ index }}:{{ message.role }};{%- endfor %}{% for m in messages %}<|{{ m.role }}|>{{ m.content }}{% endfor %}{% if add_generation_prompt %}<|assistant|>{% endif %}";
    const r = await lint(qwen);
    const f = r.findings.find((x) => x.ruleId === "compat/slice-step");
    assert.ok(f, ids(r.findings).join(", "));
    const minjaFails = (r.renders.get("minja") ?? []).some((o) => !o.ok && o.stage !== "unavailable");
    if (!minjaFails) {
      assert.equal(f.severity, "info");
      assert.match(f.message, /^Other engine versions \(older minja builds\)/);
    }
  });

  it("an empty template is an error", async () => {
    for (const t of ["", "  \n"]) assert.deepEqual(ids((await lint(t)).findings, "error"), ["source/empty-template"]);
  });

  it("shows jinja2's None for null content once, as a known difference", async () => {
    const r = await lint("{% for m in messages %}<|{{ m.role }}|>{{ m.content }}\n{% endfor %}{% if add_generation_prompt %}<|assistant|>{% endif %}");
    assert.deepEqual(ids(r.findings).filter((x) => x.startsWith("known-difference/none")), ["known-difference/none"]);
    assert.deepEqual(ids(r.findings, "warning"), [], "no differential warning for None");
  });

  it("groups strip-argument into one finding", async () => {
    const r = await lint("{% for m in messages %}{{ m.role.strip('x') }}{{ m.content.strip('!') }}{{ m.role.rstrip('s') }}{% endfor %}{% if add_generation_prompt %}>{% endif %}");
    const strips = r.findings.filter((f) => f.ruleId === "compat/strip-argument");
    assert.equal(strips.length, 1);
    assert.match(strips[0].message, /3 places; also line 1\b/);
  });

  it("offers a verified fix for replace with a count of 1 (llama.cpp throws on it)", async () => {
    const t = "{% for m in messages %}{{ m.role.replace('s', 'S', 1) }}:{{ m.content }}{% endfor %}{% if add_generation_prompt %}>{% endif %}";
    const r = await lint(t);
    const f = r.findings.find((x) => x.ruleId === "llama.cpp/replace-count");
    const fix = f?.fixes?.[0];
    assert.ok(fix?.safe, `${fix?.title}: ${fix?.verdict}`);
    const after = await lint(applyEdits(t, fix.edits));
    assert.deepEqual(ids(after.findings, "error"), []);
  });

  it("offers tojson for tools printed as a value", async () => {
    const t = "{% if tools %}Tools: {{ tools }}\n{% endif %}{% for m in messages %}<|{{ m.role }}|>{{ m.content }}{% endfor %}{% if add_generation_prompt %}<|assistant|>{% endif %}";
    const r = await lint(t);
    const f = r.findings.find((x) => x.ruleId === "compat/print-without-tojson");
    assert.ok(f && f.severity === "warning", ids(r.findings).join(", "));
    assert.equal(applyEdits(t, f.fixes?.[0]?.edits ?? []).includes("{{ tools | tojson }}"), true);
  });

  it("reads bos_token / eos_token / add_bos_token from tokenizer_config.json (AddedToken form too)", () => {
    assert.deepEqual(tokenizerConfigTokens(JSON.stringify({ bos_token: { content: "<s>", lstrip: false }, eos_token: "</s>", add_bos_token: true })), { bos: "<s>", eos: "</s>", addBos: true });
    assert.equal(tokenizerConfigTokens("{}"), undefined);
  });

  describe("real-template corpus (llama.cpp's models/templates and test-chat-template.cpp)", () => {
    const results = new Map<string, LintResult>();
    before(async () => {
      for (const t of realTemplateCorpus(studioRoot())) results.set(t.name, await lintTemplate(engines, t.text, { targets: ENGINE_IDS, verifyFixes: false }));
    });

    it("has at least 100 real templates", () => assert.ok(results.size >= 100, String(results.size)));

    it("every error is reproduced by a render on the engine it names", () => {
      const bad: string[] = [];
      for (const [name, r] of results) {
        for (const f of r.findings.filter((x) => x.severity === "error")) {
          const outcomes = f.engine ? r.renders.get(f.engine) ?? [] : [];
          const observed = f.kind === "differential" ? !!f.diff : outcomes.some((o) => !o.ok && o.stage !== "unavailable");
          if (!observed || f.ruleBased) bad.push(`${name}: ${f.ruleId} [${f.engine}]`);
        }
      }
      assert.deepEqual(bad, []);
    });

    it("no rule-based warning that its engine's render did not confirm", () => {
      const bad: string[] = [];
      for (const [name, r] of results) {
        for (const f of r.findings.filter((x) => x.kind === "rule" && x.severity === "warning")) {
          if (!/\[confirmed: /.test(f.message)) bad.push(`${name}: ${f.ruleId}`);
        }
      }
      assert.deepEqual(bad, []);
    });
  });
});
