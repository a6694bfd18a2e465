// Every webview → host message is checked at run time against its protocol type: one valid
// message of each type passes; anything malformed, unknown or padded with extra fields does not.
import assert from "node:assert/strict";
import { CHARTS_FROM_WEBVIEW_SCHEMA, type ChartsFromWebview } from "../../../src/shared/chartsProtocol";
import { FROM_COMPARE_SCHEMA, type FromCompare } from "../../../src/shared/compareProtocol";
import { FROM_INSPECTOR_SCHEMA, type FromInspector } from "../../../src/shared/inspectorProtocol";
import { acceptWebviewMessage, parseMessage, type MessageSchema } from "../../../src/shared/messageSchema";
import { RECIPE_FROM_WEBVIEW_SCHEMA, type RecipeFromWebview } from "../../../src/shared/recipeProtocol";
import { TEMPLATE_PREVIEW_FROM_WEBVIEW_SCHEMA, type TemplatePreviewFromWebview } from "../../../src/shared/templatePreviewProtocol";

// One valid message per type; the `satisfies` makes the compiler check each against its protocol type.
const VALID_INSPECTOR = [
  { type: "ready" }, { type: "requestTensors", requestId: 1, offset: 0, count: 2000 },
  { type: "requestArrayPage", requestId: 2, key: "tokenizer.ggml.tokens", offset: 0, count: 100, query: "" },
  { type: "copyText", text: "--tensor-type x=q4_k", what: "rules" }, { type: "copyMetadataValue", key: "general.name" },
  { type: "editChatTemplate", key: "tokenizer.chat_template" }, { type: "export", table: "tensors", format: "csv" }, { type: "reload" },
  { type: "exportTypeMap", format: "svg", data: "<svg/>" }, { type: "extractRecipe" },
] satisfies FromInspector[];
const VALID_CHARTS = [
  { type: "ready" }, { type: "selectBase", file: "/tmp/a.kld-results.json" },
  { type: "exported", requestId: 3, format: "svg", data: "<svg/>" }, { type: "exportRequested", format: "png", data: "iVBOR" },
] satisfies ChartsFromWebview[];
const VALID_RECIPE = [
  { type: "ready" }, { type: "requestRows", offset: 400, count: 400 }, { type: "setBaseType", baseType: "Q4_K" },
  { type: "setRuleType", index: 0, ruleType: "Q6_K" }, { type: "removeRule", index: 1 },
  { type: "addRule", pattern: "ffn_down", ruleType: "Q5_K" }, { type: "setGroupType", kind: "attn_v", groupType: "Q8_0" },
  { type: "setSelectionType", selection: { layers: [0, 1], kinds: ["ffn_down"], names: ["output.weight"] }, ruleType: "Q6_K" },
] satisfies RecipeFromWebview[];
const VALID_COMPARE = [{ type: "ready" }, { type: "exportTypeMap", side: "a", format: "png", data: "iVBOR" }] satisfies FromCompare[];
const VALID_PREVIEW = [{ type: "ready" }, { type: "selectConversation", name: "tool call" }] satisfies TemplatePreviewFromWebview[];

const SUITES: { name: string; schema: MessageSchema<{ type: string }>; valid: readonly { type: string }[] }[] = [
  { name: "inspector", schema: FROM_INSPECTOR_SCHEMA as MessageSchema<{ type: string }>, valid: VALID_INSPECTOR },
  { name: "charts", schema: CHARTS_FROM_WEBVIEW_SCHEMA as MessageSchema<{ type: string }>, valid: VALID_CHARTS },
  { name: "recipe", schema: RECIPE_FROM_WEBVIEW_SCHEMA as MessageSchema<{ type: string }>, valid: VALID_RECIPE },
  { name: "compare", schema: FROM_COMPARE_SCHEMA as MessageSchema<{ type: string }>, valid: VALID_COMPARE },
  { name: "template preview", schema: TEMPLATE_PREVIEW_FROM_WEBVIEW_SCHEMA as MessageSchema<{ type: string }>, valid: VALID_PREVIEW },
];

const BAD_VALUES: unknown[] = [undefined, null, true, -1, 1.5, NaN, Infinity, 2 ** 60, "", "x".repeat(300_000), [], {}, { length: 1 }, () => 1];

/** Deterministic PRNG so a failure reproduces. */
function rng(seed: number): () => number {
  let x = seed >>> 0;
  return () => ((x = (Math.imul(x, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

describe("webview message validation", () => {
  for (const { name, schema, valid } of SUITES) {
    it(`${name}: one valid message of every type passes, and the samples cover the whole protocol`, () => {
      assert.deepEqual([...new Set(valid.map((m) => m.type))].sort(), Object.keys(schema).sort());
      for (const m of valid) assert.deepEqual(parseMessage(schema, m), { ok: true, message: m }, JSON.stringify(m).slice(0, 200));
    });

    it(`${name}: non-objects, unknown types, prototype keys, missing, extra and ill-typed fields are refused`, () => {
      const refused = (raw: unknown, why: string) => assert.equal(parseMessage(schema, raw).ok, false, `${why}: ${String(JSON.stringify(raw))?.slice(0, 200)}`);
      for (const raw of [null, undefined, 1, "ready", [], [{ type: "ready" }], new Date(), Object.create({ type: "ready" })]) refused(raw, "not a plain object");
      for (const type of ["runTool", "writeFile", "quantize", "__proto__", "constructor", "toString", "hasOwnProperty", "", 1, null]) refused({ type }, "unknown type");
      const random = rng(name.length);
      for (const m of valid) {
        refused({ ...m, extra: 1 }, "extra field");
        refused({ ...m, __proto__: { polluted: true }, ["constructor"]: "x" }, "prototype key");
        for (const key of Object.keys(m).filter((k) => k !== "type")) {
          const { [key]: _dropped, ...without } = m as Record<string, unknown>;
          refused(without, `missing ${key}`);
          for (const bad of BAD_VALUES) {
            const mutated = { ...m, [key]: bad };
            // A few bad values are valid for some fields ("" for a query, {} never): only assert where the field's check says no.
            if ((schema as unknown as Record<string, Record<string, (v: unknown) => boolean>>)[m.type][key](bad)) continue;
            refused(mutated, `${key} = ${String(bad).slice(0, 20)}`);
          }
        }
        // Random garbage in every field.
        for (let i = 0; i < 50; i++) {
          const mutated: Record<string, unknown> = { ...m };
          for (const key of Object.keys(m).filter((k) => k !== "type")) mutated[key] = BAD_VALUES[Math.floor(random() * BAD_VALUES.length)];
          const parsed = parseMessage(schema, mutated);
          if (parsed.ok) for (const [k, v] of Object.entries(mutated)) assert.ok(k === "type" || (schema as unknown as Record<string, Record<string, (v: unknown) => boolean>>)[m.type][k](v));
        }
      }
    });
  }

  it("acceptWebviewMessage logs one short warning per refused message and never the payload", () => {
    const warnings: string[] = [];
    const huge = "\u001b]52;c;" + "A".repeat(1_000_000);
    assert.equal(acceptWebviewMessage(FROM_INSPECTOR_SCHEMA, { type: "copyText", text: huge, what: 1 }, "inspector", (w) => warnings.push(w)), undefined);
    assert.equal(acceptWebviewMessage(FROM_INSPECTOR_SCHEMA, { type: "ready" }, "inspector", (w) => warnings.push(w))?.type, "ready");
    assert.equal(warnings.length, 1);
    assert.ok(warnings[0].length < 200 && !warnings[0].includes("AAAA"), warnings[0].slice(0, 200));
    assert.match(warnings[0], /inspector: .*copyText: invalid what/);
  });
});
