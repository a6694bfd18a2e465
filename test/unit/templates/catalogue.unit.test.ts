// One small template per failure mode of domain-notes ("real incompatibilities seen in the
// wild" and the new engine's gaps): detected by the right engine target, fixed where a fix exists.
import assert from "node:assert/strict";
import { applyEdits, ENGINE_IDS, lintTemplate, type EngineId, type EngineSet, type LintOptions, type TemplateFinding } from "../../../src/core/templates/index";
import { createEngines } from "./helpers";

const LOOP = (body: string) => `{%- for message in messages -%}${body}{%- endfor -%}{%- if add_generation_prompt %}<|assistant|>{% endif -%}`;

interface Case {
  readonly name: string;
  readonly template: string;
  /** Rule id and engine expected among the findings. */
  readonly expect: { ruleId: string; engine?: EngineId; severity?: string }[];
  /** Rule id whose fix is applied; after it that rule must be gone. */
  readonly fixRule?: string;
  /** The fix must verify as safe. */
  readonly fixSafe?: boolean;
  readonly options?: Partial<LintOptions>;
}

const CASES: Case[] = [
  {
    name: "1. split with maxsplit (DeepSeek-V3.1)",
    template: LOOP("{%- set content = message.content.split('</think>', 1)[-1] -%}<|{{ message.role }}|>{{ content }}"),
    expect: [{ ruleId: "render-error", engine: "minja" }, { ruleId: "compat/split-maxsplit", engine: "minja" }],
    fixRule: "compat/split-maxsplit",
    fixSafe: true,
  },
  {
    name: "2. slice step (Qwen3)",
    template: "{%- for message in messages[::-1] -%}{{ message.role }}{%- endfor -%}{% if add_generation_prompt %}>{% endif %}",
    expect: [{ ruleId: "compat/slice-step", engine: "minja" }],
    fixRule: "compat/slice-step",
  },
  {
    name: "3. reject(\"in\") (Qwen3-Coder)",
    template: "{%- set handled = ['type'] -%}{%- for key in tools[0].function.parameters.keys() | reject(\"in\", handled) -%}{{ key }};{%- endfor -%}" + LOOP("{{ message.role }}"),
    expect: [{ ruleId: "render-error", engine: "hf-jinja" }, { ruleId: "compat/reject-in", engine: "hf-jinja" }],
    fixRule: "compat/reject-in",
    fixSafe: true,
  },
  {
    name: "4. tojson(ensure_ascii=False) (GLM-4.x)",
    template: "{%- if tools %}{{ tools | tojson(ensure_ascii=False) }}{% endif -%}" + LOOP("{{ message.role }}"),
    expect: [{ ruleId: "compat/tojson-kwargs", engine: "minja" }],
    fixRule: "compat/tojson-kwargs",
    fixSafe: true,
  },
  {
    name: "6. strftime_now",
    template: "Today: {{ strftime_now('%Y') }}\n" + LOOP("{{ message.role }}"),
    expect: [{ ruleId: "compat/strftime-now", engine: "minja" }],
    fixRule: "compat/strftime-now",
    fixSafe: true,
  },
  {
    name: "7. strip with a character argument",
    template: LOOP("{{ message.role }}:{{ (message.content ~ '!!') | string }}{{ 'xx!!'.rstrip('!') }}"),
    expect: [{ ruleId: "compat/strip-argument", engine: "hf-jinja" }, { ruleId: "differential", engine: "hf-jinja" }],
  },
  {
    name: "8. break/continue (Command-R7B)",
    template: "{%- for message in messages -%}{%- if message.role == 'system' -%}{%- continue -%}{%- endif -%}{{ message.role }};{%- endfor -%}{% if add_generation_prompt %}>{% endif %}",
    expect: [{ ruleId: "compat/loop-controls", engine: "minja" }],
    fixRule: "compat/loop-controls",
    fixSafe: true,
  },
  {
    name: "9. upper on a JSON-schema type list (Gemma 4)",
    template: "{%- for t in tools or [] -%}{%- for name, p in t.function.parameters.properties | items -%}{{ name }}:{{ p.type | upper }};{%- endfor -%}{%- endfor -%}" + LOOP("{{ message.role }}"),
    expect: [{ ruleId: "render-error", engine: "hf-jinja" }, { ruleId: "render-error", engine: "minja" }, { ruleId: "compat/upper-on-schema-type", engine: "hf-jinja" }],
  },
  {
    name: "10. raise_exception on a valid conversation",
    template: LOOP("{%- if message.role == 'system' -%}{{ raise_exception('System role not supported') }}{%- endif -%}{{ message.role }}"),
    expect: [{ ruleId: "semantic/raise-exception-on-valid-chat" }, { ruleId: "render-rejected" }],
  },
  {
    name: "11. null content on tool-call messages",
    template: LOOP("<|{{ message.role }}|>{{ message.content[:50] }}"),
    // The finding names the engine whose render confirmed it (minja when built).
    expect: [{ ruleId: "compat/null-content-slice" }, { ruleId: "render-rejected" }],
    fixRule: "compat/null-content-slice",
    fixSafe: true,
  },
  {
    name: "12a. triple-quoted string",
    template: "{%- set header = \"\"\"You are helpful.\nBe brief.\"\"\" -%}{{ header }}" + LOOP("{{ message.role }}"),
    expect: [{ ruleId: "syntax-error", engine: "minja" }, { ruleId: "compat/triple-quotes", engine: "minja" }],
    fixRule: "compat/triple-quotes",
    fixSafe: true,
  },
  {
    name: "12b. generation tags",
    template: LOOP("{%- if message.role == 'assistant' -%}{% generation %}{{ message.content }}{% endgeneration %}{%- else -%}{{ message.role }}{%- endif -%}"),
    expect: [{ ruleId: "compat/generation-tag", engine: "minja" }],
    fixRule: "compat/generation-tag",
    fixSafe: true,
  },
  {
    name: "gap: replace with a count",
    template: LOOP("{{ message.role.replace('s', 'S', 1) }}"),
    expect: [{ ruleId: "render-error", engine: "llama.cpp", severity: "error" }, { ruleId: "llama.cpp/replace-count", engine: "llama.cpp" }],
  },
  {
    name: "gap: str.join method",
    template: LOOP("{{ message.role }}") + "{{ ', '.join(['a', 'b']) }}",
    expect: [{ ruleId: "render-error", engine: "llama.cpp" }, { ruleId: "llama.cpp/string-join-method", engine: "llama.cpp" }],
    fixRule: "llama.cpp/string-join-method",
    fixSafe: true,
  },
  {
    name: "gap: unique filter",
    template: LOOP("{{ message.role }}") + "{{ messages | map(attribute='role') | unique | join(',') }}",
    expect: [{ ruleId: "render-error", engine: "llama.cpp" }, { ruleId: "llama.cpp/unique-filter", engine: "llama.cpp" }],
  },
  {
    name: "gap: map without attribute=",
    template: LOOP("{{ message.role }}") + "{{ ['a', 'b'] | map('upper') | join(',') }}",
    expect: [{ ruleId: "render-error", engine: "llama.cpp" }, { ruleId: "llama.cpp/map-filter", engine: "llama.cpp" }],
  },
  {
    name: "gap: floor division",
    template: LOOP("{{ message.role }}{{ loop.index // 2 }}"),
    expect: [{ ruleId: "syntax-error", engine: "llama.cpp", severity: "error" }, { ruleId: "llama.cpp/floor-division", engine: "llama.cpp" }],
  },
  {
    name: "gap: split() without argument",
    template: LOOP("{{ message.role }}") + "{{ 'a b  c'.split() | join('|') }}",
    expect: [{ ruleId: "differential", engine: "llama.cpp" }, { ruleId: "llama.cpp/split-no-argument", engine: "llama.cpp" }],
  },
  {
    name: "gap: lexer drops a leading character",
    template: "[{% if false %}{% endif %}]" + LOOP("{{ message.role }}"),
    expect: [{ ruleId: "differential", engine: "llama.cpp" }, { ruleId: "llama.cpp/leading-character", engine: "llama.cpp" }],
    fixRule: "llama.cpp/leading-character",
    fixSafe: true,
  },
];

function has(findings: readonly TemplateFinding[], e: Case["expect"][number]): boolean {
  return findings.some((f) => f.ruleId === e.ruleId && (e.engine === undefined || f.engine === e.engine) && (e.severity === undefined || f.severity === e.severity));
}

describe("chat templates: failure-mode catalogue", function () {
  this.timeout(120_000);
  let engines: EngineSet;
  before(() => {
    engines = createEngines();
  });
  after(() => engines.dispose());

  for (const c of CASES) {
    it(c.name, async () => {
      const result = await lintTemplate(engines, c.template, { targets: ENGINE_IDS, ...c.options });
      const summary = result.findings.map((f) => `${f.severity} ${f.ruleId} [${f.engine ?? "-"}]`).join("\n");
      for (const e of c.expect) assert.ok(has(result.findings, e), `expected ${e.ruleId} [${e.engine ?? "-"}] among:\n${summary}`);
      for (const f of result.findings) {
        assert.ok(f.range.start >= 0 && f.range.end <= c.template.length && f.range.end > f.range.start, `bad range for ${f.ruleId}`);
      }
      if (!c.fixRule) return;
      const finding = result.findings.find((f) => f.ruleId === c.fixRule && f.fixes?.length);
      assert.ok(finding?.fixes, `${c.fixRule} should offer a fix`);
      const fix = finding.fixes[0];
      if (c.fixSafe) assert.equal(fix.safe, true, `fix "${fix.title}" should verify as safe: ${fix.verdict}`);
      const fixed = applyEdits(c.template, fix.edits);
      const again = await lintTemplate(engines, fixed, { targets: ENGINE_IDS, verifyFixes: false });
      assert.ok(!again.findings.some((f) => f.ruleId === c.fixRule), `${c.fixRule} still fires after the fix:\n${fixed}`);
    });
  }

  // Item 5 (MiniMax-M2): chained split/strip and `.items()` failed in the llama.cpp of that report. The
  // bundled llama.cpp, minja and jinja2 all render it; the only finding is that @huggingface/jinja
  // ignores strip's argument. This guards against false errors and fails loudly if an engine regresses.
  it("5. chained split/strip and .items() (MiniMax-M2): renders natively; only hf-jinja's strip gap is flagged", async () => {
    const template =
      LOOP("{%- set c = message.content.split('</think>')[0].strip(' ').split('<think>')[-1].strip(' ') -%}<|{{ message.role }}|>{{ c }}") +
      "{%- for k, v in {'a': 1}.items() -%}{{ k }}={{ v }}{%- endfor -%}";
    const result = await lintTemplate(engines, template, { targets: ENGINE_IDS, verifyFixes: false });
    assert.ok(has(result.findings, { ruleId: "compat/strip-argument", engine: "hf-jinja" }));
    // The strip gap also shows as hf-jinja's differential on the earlier-reasoning conversation,
    // located (by bisecting the render) at the tag that strips.
    const diff = result.findings.find((f) => f.ruleId === "differential" && f.engine === "hf-jinja");
    if (diff) assert.match(template.slice(diff.range.start, diff.range.end), /strip\(' '\)/);
    const others = result.findings.filter((f) => f.severity !== "info" && !(["compat/strip-argument", "differential"].includes(f.ruleId) && f.engine === "hf-jinja"));
    assert.deepEqual(others.map((f) => `${f.severity} ${f.ruleId} [${f.engine ?? "-"}]`), []);
    for (const engine of (["llama.cpp", "minja", "jinja2"] as const).filter((e) => engines.isAvailable(e))) {
      const outcomes = result.renders.get(engine) ?? [];
      assert.ok(outcomes.length > 0 && outcomes.some((o) => o.ok), `${engine} renders the plain conversations`);
    }
  });
});
