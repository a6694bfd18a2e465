// File content must not drive the terminal: names and metadata with ESC/OSC, C1 and bidi
// characters come out escaped in every CLI format, and a huge name cannot make a huge message.
import assert from "node:assert/strict";
import { runCli } from "../../../src/cli/main";
import { readGgufFile } from "../../../src/core/gguf";
import { pickToolErrorLine } from "../../../src/core/native/toolErrorLine";
import { boundedMessage, displayName, escapeControlChars } from "../../../src/shared/displayText";
import { makeTempDir, removeTempDir, smallModelSpec, writeTestGguf } from "../gguf/ggufTestBuilder";

/** Anything a terminal acts on or that reorders text: C0 but tab/newline, DEL, C1, bidi controls. */
const DANGEROUS = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/;

const OSC52 = "\u001b]52;c;ZWNobyBwd25lZA==\u0007"; // writes "echo pwned" to the clipboard
const TITLE = "\u001b]0;owned\u0007";
const CSI_C1 = "\u009b2J"; // 8-bit CSI: clear screen
const BIDI = "\u202egnp.exe\u202c\u2066x\u2069";
const HOSTILE_TENSOR = `blk.0.attn_q.weight${OSC52}${BIDI}`;
const HOSTILE_VALUE = `name${TITLE}${CSI_C1}\r\u007fend`;

async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const code = await runCli(argv, { out: (t) => { out += t; }, err: (t) => { err += t; }, signal: new AbortController().signal });
  return { code, out, err };
}

describe("terminal escapes and message size", () => {
  let dir: string;
  let hostile: string;
  before(async () => {
    dir = await makeTempDir();
    const spec = smallModelSpec();
    spec.kvs = [...(spec.kvs ?? []).filter((k) => k.key !== "general.name"), { key: "general.name", type: 8, value: HOSTILE_VALUE }, { key: `x.${TITLE}`, type: 8, value: OSC52 }];
    spec.tensors = (spec.tensors ?? []).map((t) => (t.name === "blk.0.attn_q.weight" ? { ...t, name: HOSTILE_TENSOR } : t));
    hostile = await writeTestGguf(dir, "hostile.gguf", spec);
  });
  after(() => removeTempDir(dir));

  it("escapeControlChars makes every control visible and keeps tab and newline", () => {
    const s = escapeControlChars(`a\tb\n${OSC52}${CSI_C1}${BIDI}\u0000\u007f\u2028`);
    assert.doesNotMatch(s, DANGEROUS);
    assert.ok(s.startsWith("a\tb\n\\u001b]52;c;"), s);
    assert.ok(s.includes("\\u009b2J") && s.includes("\\u202e") && s.includes("\\u2066") && s.includes("\\u0000") && s.includes("\\u007f") && s.includes("\\u2028"));
    // Valid JSON escapes: a JSON document escaped here parses to the original strings.
    assert.equal(JSON.parse(escapeControlChars(JSON.stringify({ v: `${CSI_C1}${BIDI}` }))).v, `${CSI_C1}${BIDI}`);
  });

  it("displayName and boundedMessage cap names and messages, never splitting a surrogate pair", () => {
    const huge = "x".repeat(1_000_000);
    const name = displayName(huge);
    assert.ok(name.length < 200, `${name.length}`);
    assert.match(name, /1000000 characters/);
    assert.equal(displayName(`a\nb${OSC52}`).includes("\n"), false);
    assert.doesNotMatch(displayName(`a\nb${OSC52}`), DANGEROUS);
    const emoji = displayName("😀".repeat(100), 51);
    assert.doesNotMatch(emoji.replace(/….*/, ""), /[\ud800-\udbff](?![\udc00-\udfff])/, "no lone high surrogate");
    const lines = boundedMessage(Array.from({ length: 317_000 }, (_, i) => `line ${i}`).join("\n"));
    assert.ok(lines.split("\n").length <= 21, `${lines.split("\n").length} lines`);
    assert.ok(lines.length <= 2100);
    assert.match(lines, /cut from/);
  });

  for (const format of [[], ["--markdown"], ["--json"]]) {
    it(`inspect ${format.join(" ") || "(text)"} prints no raw control characters from tensor names or metadata`, async () => {
      const r = await cli("inspect", hostile, ...format);
      assert.equal(r.code, 0, r.err);
      assert.doesNotMatch(r.out, DANGEROUS);
      assert.doesNotMatch(r.err, DANGEROUS);
      assert.match(r.out, /\\u001b\]/, "the hostile text is shown, escaped");
      if (format[0] === "--json") {
        const j = JSON.parse(r.out) as { tensors: { name: string }[]; metadata: { key: string; value?: unknown }[] };
        assert.ok(j.tensors.some((t) => t.name === HOSTILE_TENSOR), "JSON keeps the exact name");
        assert.ok(j.metadata.some((m) => m.key === `x.${TITLE}`));
      }
    });
  }

  it("a 1 MB tensor name gives a short one-line error, not a 1 MB one", async () => {
    const long = `blk.0.${"\u001b[31m\n".repeat(200_000)}weight`; // ~1 MB with a newline every 6 bytes
    const spec = smallModelSpec();
    spec.tensors = [{ name: long, shape: [64], type: 0 }, { name: long, shape: [64], type: 0 }];
    const file = await writeTestGguf(dir, "dup.gguf", spec);
    await assert.rejects(readGgufFile(file), (e: Error) => e.message.length < 600 && e.message.includes("appears twice"));
    const r = await cli("inspect", file);
    assert.equal(r.code, 1);
    assert.ok(r.err.length < 1000, `${r.err.length} characters`);
    assert.equal(r.err.trimEnd().split("\n").length, 1, r.err);
    assert.match(r.err, /appears twice/);
    assert.doesNotMatch(r.err, DANGEROUS);
  });

  it("a tool's error line is escaped and capped too", () => {
    const line = pickToolErrorLine(`error: bad tensor ${OSC52}${"y".repeat(100_000)}`);
    assert.ok(line && line.length < 600);
    assert.doesNotMatch(line, DANGEROUS);
  });
});
