// The template rules run in-process (in the extension host, on any opened .jinja file), so they
// must stay linear on hostile input. Before the rewrite, four of them (reject-in,
// string-join-method, replace-count, slice-step) took cubic time: a crafted 4 KB template took
// 14-56 s. Here every adversarial shape is linted at 64 KB, sixteen times that size. At the
// old complexity that would take days; linear rules take milliseconds. The bound below is three
// orders of magnitude above what linear code needs, so load on the machine cannot flake it.
import assert from "node:assert/strict";
import { ENGINE_IDS } from "../../../src/core/templates/index";
import { runTemplateRules } from "../../../src/core/templates/rules";
import { scanTemplate } from "../../../src/core/templates/scanner";

const SIZE = 64 * 1024;

/** Repeats `unit` to about SIZE characters. */
const fill = (unit: string) => unit.repeat(Math.ceil(SIZE / unit.length));
const ws = (n: number) => " ".repeat(n);

/** Shapes that make backtracking regexes explode: long whitespace runs between the parts of a construct, unclosed calls, deep nesting. */
const ADVERSARIAL: Record<string, string> = {
  "reject-in, whitespace": `{{ x | reject( 'in' ,${ws(SIZE)}`,
  "reject-in, repeated": `{{ ${fill(`x | reject('in',${ws(20)}`)} }}`,
  "string-join, whitespace": `{{ ''.join(${ws(SIZE)} }}`,
  "string-join, repeated": `{{ ${fill(`''.join( a${ws(20)}`)} }}`,
  "replace-count, whitespace": `{{ x.replace(${ws(SIZE / 2)}a${ws(SIZE / 2)}, }}`,
  "replace-count, repeated": `{{ ${fill(`replace(a ${ws(10)}, b${ws(10)},`)} }}`,
  "slice-step, whitespace": `{{ x[${ws(SIZE / 2)}:${ws(SIZE / 2)}: }}`,
  "slice-step, repeated": `{{ ${fill(`x[ a :${ws(10)}`)} }}`,
  "slice-step, nested": `{{ x${fill("[")}${fill("]")} }}`,
  "split-maxsplit, chain": `{{ ${fill("a.")}split('x', 1${ws(SIZE / 4)} }}`,
  "null-content slice": `{{ ${fill(`m.content[ ${ws(10)}`)} }}`,
  "calls, nesting": `{{ ${fill("replace(")}${fill(")")} }}`,
  "tojson, whitespace": `{{ x | tojson(${fill(", ensure_ascii =")} }}`,
  "continue, many loops": fill("{% for x in y %}{% if c %}{% continue %}{% endif %}{% endfor %}"),
  "tests, whitespace": `{{ ${fill(`x is${ws(30)}not${ws(30)}`)} }}`,
  "strip, whitespace": `{{ ${fill(`.strip(${ws(30)}`)} }}`,
  "map, whitespace": `{{ ${fill(`map(${ws(30)}`)} }}`,
  "operands, long": `{{ ${fill("a.b")}[::-1] }}`,
  "many tags": fill("{{ x[::-1] }}{{ ''.join(y) }}{% for k in z | reject('in', w) %}{{ a.replace('a','b',1) }}{% endfor %}"),
};

describe("chat templates: rules stay linear on adversarial input", function () {
  this.timeout(60_000);

  for (const [name, text] of Object.entries(ADVERSARIAL)) {
    it(`${name} (${(text.length / 1024).toFixed(0)} KB)`, () => {
      const scanned = scanTemplate(text);
      const t = performance.now();
      runTemplateRules(text, { targets: ENGINE_IDS }, scanned);
      const ms = performance.now() - t;
      assert.ok(ms < 5000, `${name}: rules took ${ms.toFixed(0)} ms on ${text.length} characters`);
    });
  }

  it("still finds the constructs the rewritten rules look for", () => {
    const text = [
      "{%- for k in keys | reject('in', handled) %}{{ k }}{% endfor -%}",
      "{{ ', '.join(names) }}",
      "{{ message.content.replace('a', 'b', 1) }}",
      "{% for m in messages[::-1] %}{{ m.role }}{% endfor %}",
      "{{ message.content.split('</think>', 1)[-1] }}",
      "{{ message['content'][:50] }}",
    ].join("\n");
    const ids = runTemplateRules(text, { targets: ENGINE_IDS }).map((f) => f.ruleId);
    for (const id of ["compat/reject-in", "llama.cpp/string-join-method", "llama.cpp/replace-count", "compat/slice-step", "compat/split-maxsplit", "compat/null-content-slice"]) {
      assert.ok(ids.includes(id), `${id} missing from ${ids.join(", ")}`);
    }
  });
});
