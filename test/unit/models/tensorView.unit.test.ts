// The inspector's tensor table logic (webview/inspector) on real fixture data: filters, sort and
// groups against brute force and the core summary; --tensor-type rules applied the way
// llama-quantize applies them.
import assert from "node:assert/strict";
import { loadInspectorModel, tensorColumns, type LoadedModel } from "../../../src/core/models/inspectorData";
import { buildTensorView, parseLayerSpec, TensorData } from "../../../webview/inspector/tensorModel";
import { tensorTypeArguments, tensorTypeRules, type RuleTensor } from "../../../webview/inspector/tensorRules";
import { tinyLlama, tinyMoe } from "./helpers";

function tableOf(loaded: LoadedModel): TensorData {
  const d = new TensorData(loaded.model.tensors.length, loaded.view.typeNames, loaded.view.kinds);
  for (let offset = 0; offset < d.total; offset += 10) d.add(offset, tensorColumns(loaded, offset, 10));
  return d;
}

const NO_FILTER = { nameRegex: "", typeName: "", layers: "" };

/** llama-quantize: pattern lower-cased, std::regex_search, last matching rule wins. */
function applyRules(rules: readonly string[], name: string): string | undefined {
  let type: string | undefined;
  for (const r of rules) {
    const eq = r.lastIndexOf("=");
    if (new RegExp(r.slice(0, eq).toLowerCase()).test(name)) type = r.slice(eq + 1);
  }
  return type;
}

describe("inspector tensor table (webview/inspector/tensorModel)", () => {
  let moe: LoadedModel;
  let data: TensorData;
  before(async () => {
    moe = await loadInspectorModel(tinyMoe);
    data = tableOf(moe);
  });

  it("filters by name regex, type and layers exactly like a brute-force scan", () => {
    const tensors = moe.model.tensors;
    const view = buildTensorView(data, { nameRegex: "ffn_(up|down)_exps", typeName: "", layers: "1-2" }, "index", false, "none");
    const expected = tensors.flatMap((t, i) => (/ffn_(up|down)_exps/i.test(t.name) && t.layer !== undefined && t.layer >= 1 && t.layer <= 2 ? [i] : []));
    assert.deepEqual(Array.from(view.rows), expected);
    assert.ok(expected.length > 0);
    const f32 = buildTensorView(data, { ...NO_FILTER, typeName: "F32" }, "index", false, "none");
    assert.deepEqual(Array.from(f32.rows), tensors.flatMap((t, i) => (t.typeName === "F32" ? [i] : [])));
    const nonLayer = buildTensorView(data, { ...NO_FILTER, layers: "none" }, "index", false, "none");
    assert.deepEqual(Array.from(nonLayer.rows).map((i) => tensors[i].name), tensors.filter((t) => t.layer === undefined).map((t) => t.name));
    const bad = buildTensorView(data, { ...NO_FILTER, nameRegex: "attn_q.weight(" }, "index", false, "none");
    assert.ok(bad.regexError, "an invalid regex is reported");
    assert.equal(bad.tensorCount, 0, "and matched as plain text");
    assert.equal(parseLayerSpec("3, 5-4")?.(4), true);
    assert.equal(parseLayerSpec("x")?.(1), false);
  });

  it("sorts by bytes descending with file order breaking ties, and by name", () => {
    const view = buildTensorView(data, NO_FILTER, "bytes", true, "none");
    const rows = Array.from(view.rows);
    assert.equal(rows.length, moe.model.tensors.length);
    for (let k = 1; k < rows.length; k++) {
      const a = data.bytes[rows[k - 1]];
      const b = data.bytes[rows[k]];
      assert.ok(a > b || (a === b && rows[k - 1] < rows[k]), `row ${k} is in order`);
    }
    const byName = Array.from(buildTensorView(data, NO_FILTER, "name", false, "none").rows).map((i) => data.names[i]);
    assert.deepEqual(byName, [...byName].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
  });

  it("groups by layer and by kind with the bits per weight of the core summary", () => {
    for (const groupBy of ["layer", "kind"] as const) {
      const view = buildTensorView(data, NO_FILTER, "index", false, groupBy);
      const core = groupBy === "layer" ? moe.summary.byLayer : moe.summary.byKind;
      assert.equal(view.groups.length, core.length);
      for (const g of view.groups) {
        const c = core.find((x) => x.group === g.label);
        assert.ok(c, `group ${g.label} exists in the summary`);
        assert.equal(g.count, c.tensorCount);
        assert.equal(g.bytes, c.bytes);
        assert.ok(Math.abs((g.bpw ?? 0) - (c.bitsPerWeight ?? 0)) < 1e-9);
      }
      // Every tensor appears once, under its own group header.
      let header = "";
      let seen = 0;
      for (const item of view.rows) {
        if (item < 0) header = view.groups[-item - 1].label;
        else {
          seen++;
          const t = moe.model.tensors[item];
          assert.equal(header, groupBy === "layer" ? (t.layer === undefined ? "non-layer" : `blk.${t.layer}`) : t.kind);
        }
      }
      assert.equal(seen, moe.model.tensors.length);
    }
  });

  it("--tensor-type rules select exactly the chosen tensors and keep their types", async () => {
    for (const fixture of [tinyLlama, tinyMoe]) {
      const loaded = await loadInspectorModel(fixture);
      const all: RuleTensor[] = loaded.model.tensors.map((t) => ({ name: t.name, layer: t.layer ?? -1, typeName: t.typeName }));
      const selections = [
        all.filter((t) => t.name.includes("attn_v")), // every layer: one \d+ rule
        all.filter((t) => t.layer === 0 || t.layer === 3), // some layers
        all.filter((t) => t.layer < 0), // non-layer tensors
        all.filter((_, i) => i % 5 === 0), // scattered
      ];
      for (const selected of selections) {
        const rules = tensorTypeRules(selected, all);
        const chosen = new Set(selected.map((t) => t.name));
        for (const t of all) assert.equal(applyRules(rules, t.name), chosen.has(t.name) ? t.typeName : undefined, `${t.name} with ${rules.join(" ")}`);
      }
      const everyAttnV = tensorTypeRules(selections[0], all);
      assert.equal(everyAttnV.length, 1);
      assert.match(everyAttnV[0], /\\d\+/);
    }
    assert.equal(tensorTypeArguments(["^output\\.weight$=Q6_K"]), "--tensor-type '^output\\.weight$=Q6_K'");
  });
});
