import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { metadataString, readGgufModel } from "../../../src/core/gguf";
import {
  CalibrationError, detectCalibrationFormat, openModelVocab, parseConversationsJsonl, prepareCalibration, renderConversations, type ModelVocab,
} from "../../../src/core/quant/calibration";
import { CODE_CALIB, TINY_LLAMA, tempDir } from "./quantTestSupport";

const CONVERSATIONS = [
  { messages: [{ role: "user", content: "Write a function that adds one." }, { role: "assistant", content: "def inc(x):\n    return x + 1" }] },
  { conversations: [{ from: "human", value: "Sort a list." }, { from: "gpt", value: "sorted(xs)" }] },
];

describe("calibration text", () => {
  let dir: string;
  let vocab: ModelVocab;
  before(async function () {
    this.timeout(30_000);
    dir = tempDir("calib");
    vocab = await openModelVocab(TINY_LLAMA);
  });
  after(async () => {
    await vocab?.dispose();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("tells chat JSONL from plain text by name or by its first record", () => {
    assert.equal(detectCalibrationFormat("a.jsonl", "whatever"), "chat-jsonl");
    assert.equal(detectCalibrationFormat("a.txt", JSON.stringify(CONVERSATIONS[0])), "chat-jsonl");
    assert.equal(detectCalibrationFormat("a.txt", '{"x": 1}\nmore'), "text");
    assert.equal(detectCalibrationFormat("a.py", "import os\n{broken"), "text");
  });

  it("reads OpenAI-style and ShareGPT records, and names the line of a bad one", () => {
    const parsed = parseConversationsJsonl(CONVERSATIONS.map((c) => JSON.stringify(c)).join("\n") + "\n\n");
    assert.deepEqual(parsed[1], [{ role: "user", content: "Sort a list." }, { role: "assistant", content: "sorted(xs)" }]);
    assert.throws(() => parseConversationsJsonl(`${JSON.stringify(CONVERSATIONS[0])}\n{oops`), (e: unknown) => e instanceof CalibrationError && e.code === "bad-jsonl" && /line 2/.test(e.message));
    assert.throws(() => parseConversationsJsonl('{"messages":[{"role":"user"}]}'), /line 1, message 1/);
    assert.throws(() => parseConversationsJsonl("\n\n"), (e: unknown) => e instanceof CalibrationError && e.code === "empty");
  });

  it("renders conversations through the model's own chat template (ChatML in the fixture)", async () => {
    const template = metadataString((await readGgufModel(TINY_LLAMA)).metadata, "tokenizer.chat_template");
    assert.ok(template);
    const text = renderConversations(template, parseConversationsJsonl(CONVERSATIONS.map((c) => JSON.stringify(c)).join("\n")), vocab);
    assert.ok(text.startsWith("<|im_start|>user\nWrite a function that adds one.<|im_end|>\n<|im_start|>assistant\ndef inc(x):"), text);
    assert.match(text, /<\|im_start\|>user\nSort a list\.<\|im_end\|>/);
    assert.equal(text.includes("<|im_start|>assistant\n<"), false, "no generation prompt added");
  });

  it("reports a template that does not parse as a template error", () => {
    assert.throws(() => renderConversations("{% for m in messages %}{{ m.content ", [[{ role: "user", content: "x" }]], vocab), (e: unknown) => e instanceof CalibrationError && e.code === "template-error");
  });

  it("refuses an empty file and a text shorter than two chunks, counting tokens with the model's tokenizer", async () => {
    const empty = path.join(dir, "empty.txt");
    fs.writeFileSync(empty, "  \n\n");
    await assert.rejects(prepareCalibration({ modelPath: TINY_LLAMA, calibrationPath: empty, contextSize: 128, workDir: dir, vocab }), (e: unknown) => e instanceof CalibrationError && e.code === "empty");
    const short = path.join(dir, "short.txt");
    fs.writeFileSync(short, fs.readFileSync(CODE_CALIB, "utf8").slice(0, 400));
    const tokens = vocab.countTokens(fs.readFileSync(short, "utf8"));
    assert.ok(tokens < 256);
    await assert.rejects(
      prepareCalibration({ modelPath: TINY_LLAMA, calibrationPath: short, contextSize: 128, workDir: dir, vocab }),
      (e: unknown) => e instanceof CalibrationError && e.code === "too-short" && e.message.includes(`has ${tokens} tokens`) && e.message.includes("at least 256"),
    );
    await assert.rejects(prepareCalibration({ modelPath: TINY_LLAMA, calibrationPath: path.join(dir, "nope.txt"), contextSize: 128, workDir: dir, vocab }), (e: unknown) => e instanceof CalibrationError && e.code === "missing");
  });

  it("passes a long plain text through unchanged, and writes rendered chat to a temp file that needs --parse-special", async function () {
    this.timeout(30_000);
    const plain = await prepareCalibration({ modelPath: TINY_LLAMA, calibrationPath: CODE_CALIB, contextSize: 128, workDir: dir, vocab });
    assert.equal(plain.path, CODE_CALIB);
    assert.equal(plain.temporary, false);
    assert.equal(plain.parseSpecial, false);
    assert.ok(plain.tokenCount >= 256);

    const jsonl = path.join(dir, "chat.jsonl");
    const code = fs.readFileSync(CODE_CALIB, "utf8");
    const records = Array.from({ length: 40 }, (_, i) => ({ messages: [{ role: "user", content: `Explain part ${i}.` }, { role: "assistant", content: code.slice(i * 300, i * 300 + 300) }] }));
    fs.writeFileSync(jsonl, records.map((r) => JSON.stringify(r)).join("\n"));
    const chat = await prepareCalibration({ modelPath: TINY_LLAMA, calibrationPath: jsonl, contextSize: 128, workDir: dir, vocab });
    try {
      assert.equal(chat.format, "chat-jsonl");
      assert.equal(chat.conversations, 40);
      assert.equal(chat.parseSpecial, true);
      assert.equal(chat.temporary, true);
      const rendered = fs.readFileSync(chat.path, "utf8");
      assert.equal(rendered.split("<|im_start|>user\n").length - 1, 40);
      assert.equal(chat.tokenCount, vocab.countTokens(rendered));
    } finally {
      fs.rmSync(chat.path, { force: true });
    }
  });
});
