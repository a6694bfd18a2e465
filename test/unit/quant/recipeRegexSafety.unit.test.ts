// Recipe patterns with nested quantifiers backtrack exponentially: `^(([a-z0-9._])+)+z$` on a
// 30-character tensor name took minutes in recipeResolve and froze the recipe editor. They are
// refused by validation (with a message naming the construct) and by resolveRecipe itself.
import assert from "node:assert/strict";
import { patternProblem, validateRecipe } from "../../../src/core/quant/recipeParse";
import { resolveRecipe } from "../../../src/core/quant/recipeResolve";
import { nestedQuantifier } from "../../../src/core/quant/regexSafety";

describe("recipe regex safety", () => {
  it("finds nested quantifiers and leaves ordinary recipe patterns alone", () => {
    for (const p of ["^(([a-z0-9._])+)+z$", "(a+)+", "(a*)*b", "((ab)+c)*", "(x{2,})+", "(a|b+){3,}", "(?:[a-z]+\\.)+weight", "(a+){2,9}", "(a?)+"]) {
      assert.ok(nestedQuantifier(p) !== undefined, `${p} should be flagged`);
    }
    for (const p of ["blk\\.\\d+\\.attn_v", "^blk\\.(0|1|2)\\.ffn_down", "(attn_q|attn_k)\\.weight", "blk\\.([0-9]+)\\.ffn_(up|gate)_exps", "(ab)+", "([a-z])+", "(a+)?", "(a+)b{2}", "[(+)]+", "\\(a+\\)+", "(a{2})+"]) {
      assert.equal(nestedQuantifier(p), undefined, `${p} should pass`);
    }
  });

  it("validation rejects the pattern with a clear message", () => {
    assert.match(patternProblem("^(([a-z0-9._])+)+z$") ?? "", /nested quantifier \(\(\(\[a-z0-9\._\]\)\+\)\+\).*exponential/);
    const { recipe, problems } = validateRecipe({ baseType: "Q4_K", rules: [{ pattern: "^(([a-z0-9._])+)+z$", type: "Q6_K" }] });
    assert.equal(recipe, undefined);
    assert.equal(problems[0]?.path, "rules[0].pattern");
  });

  it("resolveRecipe refuses it instead of hanging on a long tensor name", () => {
    const name = "blk.0.attn_output.weight.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    const tensors = [{ name, shape: [256, 256], ggmlType: 1, elementCount: 65536, layer: 0, kind: "attn_output" }];
    assert.throws(() => resolveRecipe({ version: 1, baseType: "Q4_K", rules: [{ pattern: "^(([a-z0-9._])+)+z$", type: "Q6_K" }] }, tensors), /rules\[0\]\.pattern: .*nested quantifier/);
  });
});
