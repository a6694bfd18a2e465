// Multiple-choice core: question-set parsing and its errors, MMLU prompts, both answer spellings,
// accuracy / flips / efficiency from per-question outcomes, divergence statistics.
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { accuracyBySubject, accuracyOf, chancePercent, efficiency, flipsAgainst, type QuestionOutcome } from "../../../src/core/eval/accuracyStats";
import { allLetterIds, answerLetterTokens, chooseLetter } from "../../../src/core/eval/answerLetters";
import { parseDivergencePrompts } from "../../../src/core/eval/divergenceJob";
import { divergenceStats, matchingPrefix } from "../../../src/core/eval/divergenceStats";
import { buildMcPrompts, formatExample, subjectHeader } from "../../../src/core/eval/mcPrompt";
import { loadQuestionSet, parseCsvRows, parseJsonlQuestions, parseMmluCsv, QuestionSetError } from "../../../src/core/eval/questionSet";

const ROOT = path.resolve(__dirname, "../../../..");
const TINY_LLAMA = path.join(ROOT, "test/fixtures/tiny-llama-f16.gguf");

function outcome(id: string, answer: number, chosen: number, subject = "s", choiceCount = 4): QuestionOutcome {
  return { id, subject, choiceCount, answer, chosen };
}

function throwsAt(fn: () => unknown, line: number | undefined, problem: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof QuestionSetError, String(e));
    assert.equal(e.line, line);
    assert.match(e.message, problem);
    return true;
  });
}

describe("multiple-choice question sets", () => {
  it("reads JSONL with index and letter answers, subject defaulting to the file's", () => {
    const qs = parseJsonlQuestions([
      JSON.stringify({ question: "1+1?", choices: ["1", "2", "3"], answer: 1 }),
      "",
      JSON.stringify({ question: "Capital of France?", choices: ["Rome", "Paris"], answer: "b", subject: "geo" }),
    ].join("\n"), "/x/set.jsonl", "set");
    assert.deepEqual(qs.map((q) => [q.subject, q.answer, q.line, q.id]), [["set", 1, 1, "set#0"], ["geo", 1, 3, "geo#0"]]);
  });

  it("names the file, the line and the problem for bad JSONL", () => {
    throwsAt(() => parseJsonlQuestions('{"question":"q","choices":["a","b"],"answer":0}\n{oops', "f.jsonl", "f"), 2, /f\.jsonl:2: not valid JSON/);
    throwsAt(() => parseJsonlQuestions('{"question":"q","choices":["only"],"answer":0}', "f.jsonl", "f"), 1, /at least 2 choices, this one has 1/);
    throwsAt(() => parseJsonlQuestions('{"question":"q","choices":["a","b"],"answer":"C"}', "f.jsonl", "f"), 1, /answer "C" is outside the 2 choices \(A-B/);
    throwsAt(() => parseJsonlQuestions('{"question":"q","choices":["a","b"],"answer":2}', "f.jsonl", "f"), 1, /answer 2 is outside the 2 choices/);
    throwsAt(() => parseJsonlQuestions('{"question":"q","choices":"ab","answer":0}', "f.jsonl", "f"), 1, /"choices" must be an array/);
    throwsAt(() => parseJsonlQuestions('[1,2]', "f.jsonl", "f"), 1, /JSON object/);
  });

  it("reads the MMLU CSV layout (quoted fields with commas, quotes and newlines)", () => {
    const csv = 'What is 2+2?,3,4,5,6,B\n"A ""quoted"", multi\nline question",x,y,z,w,D\r\n';
    const qs = parseMmluCsv(csv, "/d/high_school_math_test.csv");
    assert.equal(qs.length, 2);
    assert.equal(qs[0].subject, "high_school_math");
    assert.equal(qs[1].question, 'A "quoted", multi\nline question');
    assert.deepEqual(qs[1].choices, ["x", "y", "z", "w"]);
    assert.equal(qs[1].answer, 3);
    assert.equal(qs[1].line, 2);
  });

  it("names the line of a malformed CSV row, too few choices, an answer outside the choices", () => {
    throwsAt(() => parseMmluCsv("q,a,b,A\nq2,a,B\n", "s_test.csv"), 2, /at least 2 choices, this one has 1/);
    throwsAt(() => parseMmluCsv("q,a,b,c,d,E\n", "s_test.csv"), 1, /answer "E" is outside the 4 choices/);
    throwsAt(() => parseMmluCsv('q,a,b,c,d,A\n"never closed,a,b,A\n', "s_test.csv"), 2, /quoted field is never closed/);
    throwsAt(() => parseCsvRows('q,a"b,c\n', "s_test.csv"), 1, /quote inside an unquoted field/);
    throwsAt(() => parseMmluCsv("just one field\n", "s_test.csv"), 1, /malformed row/);
  });

  it("loads an MMLU data folder with its dev split and refuses fewer dev questions than shots", async () => {
    const dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), "gguf-mc-"));
    try {
      await fs.promises.mkdir(path.join(dir, "test"));
      await fs.promises.mkdir(path.join(dir, "dev"));
      await fs.promises.writeFile(path.join(dir, "test", "astronomy_test.csv"), "Q1,a,b,c,d,A\nQ2,a,b,c,d,B\n");
      await fs.promises.writeFile(path.join(dir, "dev", "astronomy_dev.csv"), "D1,a,b,c,d,C\nD2,a,b,c,d,D\n");
      const set = await loadQuestionSet(dir);
      assert.equal(set.questions.length, 2);
      assert.equal(set.dev?.get("astronomy")?.length, 2);
      const items = buildMcPrompts(set, { shots: 2 });
      assert.equal(items.length, 2, "with a dev split every test question is scored");
      assert.ok(items[0].prefix.includes("D1\nA. a\nB. b\nC. c\nD. d\nAnswer: C\n\n"));
      assert.throws(() => buildMcPrompts(set, { shots: 3 }), /astronomy_dev\.csv: subject "astronomy" has 2 dev questions, fewer than the 3 shots/);
    } finally {
      await fs.promises.rm(dir, { recursive: true, force: true });
    }
  });

  it("without a dev split takes the first k of a subject as shots, unscored, and refuses a subject too small", () => {
    const qs = parseJsonlQuestions([0, 1, 2, 3].map((i) => JSON.stringify({ question: `q${i}`, choices: ["x", "y"], answer: i % 2 })).join("\n"), "/s/logic.jsonl", "logic");
    const items = buildMcPrompts({ questions: qs, files: [] }, { shots: 2 });
    assert.deepEqual(items.map((i) => i.question.question), ["q2", "q3"]);
    assert.equal(items[0].prefix, `${subjectHeader("logic")}q0\nA. x\nB. y\nAnswer: A\n\nq1\nA. x\nB. y\nAnswer: B\n\n`);
    assert.equal(items[0].suffix, "q2\nA. x\nB. y\nAnswer:");
    assert.throws(() => buildMcPrompts({ questions: qs, files: [] }, { shots: 4 }), /logic\.jsonl: subject "logic" has 4 questions; with 4 shots .* at least 5/);
    assert.equal(buildMcPrompts({ questions: qs, files: [] }, { shots: 0, limit: 3 }).length, 3);
  });

  it("writes the original harness's header and example format", () => {
    assert.equal(subjectHeader("abstract_algebra"), "The following are multiple choice questions (with answers) about  abstract algebra.\n\n");
    const q = parseJsonlQuestions(JSON.stringify({ question: "Q", choices: ["1", "2", "3", "4"], answer: "D" }), "f.jsonl", "s")[0];
    assert.equal(formatExample(q, true), "Q\nA. 1\nB. 2\nC. 3\nD. 4\nAnswer: D\n\n");
    assert.equal(formatExample(q, false), "Q\nA. 1\nB. 2\nC. 3\nD. 4\nAnswer:");
  });
});

describe("answer letters: both spellings", () => {
  // A toy tokenizer that, like Llama 3, gives " A" and "A" different ids.
  const vocab = new Map<string, number>([["Answer:", 1], [" A", 10], ["A", 20], [" B", 11], ["B", 21]]);
  const toy = (text: string): number[] => {
    const out: number[] = [];
    for (let rest = text; rest.length > 0;) {
      const hit = [...vocab.keys()].sort((a, b) => b.length - a.length).find((k) => rest.startsWith(k));
      if (!hit) throw new Error(`toy tokenizer: ${rest}`);
      out.push(vocab.get(hit) as number);
      rest = rest.slice(hit.length);
    }
    return out;
  };

  it("finds both ids of each letter and scores the better of the two", () => {
    const letters = answerLetterTokens(toy, 2);
    assert.deepEqual(letters, [{ letter: "A", ids: [10, 20] }, { letter: "B", ids: [11, 21] }]);
    assert.deepEqual(allLetterIds(letters).sort((a, b) => a - b), [10, 11, 20, 21]);
    // B wins only through its bare spelling: a one-spelling scorer would pick A.
    const logits = new Map([[10, 2.0], [20, -1.0], [11, 0.5], [21, 3.0]]);
    assert.deepEqual(chooseLetter(logits, letters), { choice: 1, scores: [2.0, 3.0] });
    assert.equal(chooseLetter(new Map([[10, 1], [11, 1]]), letters).choice, 0, "a tie goes to the earlier letter");
  });

  it("on the fixture's SentencePiece vocabulary, ' A' after 'Answer:' and bare 'A' are different ids, both scored", async function () {
    this.timeout(60_000);
    const { getLlama, LlamaLogLevel } = await import("node-llama-cpp");
    const llama = await getLlama({ gpu: false, build: "never", logLevel: LlamaLogLevel.error });
    const model = await llama.loadModel({ modelPath: TINY_LLAMA, vocabOnly: true });
    try {
      const tokenize = (t: string) => model.tokenize(t) as number[];
      const letters = answerLetterTokens(tokenize, 4);
      for (const l of letters) {
        const spaced = tokenize(`Answer: ${l.letter}`).at(-1) as number;
        const bare = tokenize(`Answer:${l.letter}`).at(-1) as number;
        assert.notEqual(spaced, bare, `${l.letter}: the two spellings must differ in this vocabulary`);
        assert.ok(l.ids.includes(spaced) && l.ids.includes(bare), `${l.letter}: ${JSON.stringify(l.ids)} holds ${spaced} and ${bare}`);
        assert.equal(model.detokenize([bare] as unknown as Parameters<typeof model.detokenize>[0]), l.letter);
      }
    } finally {
      await model.dispose();
      await llama.dispose();
    }
  });
});

describe("accuracy, flips, efficiency from per-question outcomes", () => {
  const base = [outcome("q0", 0, 0, "a"), outcome("q1", 1, 1, "a"), outcome("q2", 2, 0, "b"), outcome("q3", 3, 3, "b"), outcome("q4", 0, 1, "b")];
  const quant = [outcome("q0", 0, 0, "a"), outcome("q1", 1, 2, "a"), outcome("q2", 2, 2, "b"), outcome("q3", 3, 3, "b"), outcome("q4", 0, 2, "b")];

  it("accuracy ± standard error, overall and per subject", () => {
    const a = accuracyOf(base);
    assert.equal(a.correct, 3);
    assert.equal(a.accuracy, 60);
    assert.ok(Math.abs(a.stderr - 100 * Math.sqrt(0.6 * 0.4 / 5)) < 1e-12);
    assert.deepEqual(accuracyBySubject(base).map((s) => [s.subject, s.n, s.correct]), [["a", 2, 2], ["b", 3, 1]]);
    assert.deepEqual(accuracyOf([]), { n: 0, correct: 0, accuracy: 0, stderr: 0 });
  });

  it("flips: wrong→right and right→wrong, changed answers counted apart", () => {
    // q1 right→wrong, q2 wrong→right, q4 wrong→wrong with another letter (a change, not a flip).
    const f = flipsAgainst(base, quant);
    assert.deepEqual(f, { n: 5, flips: 2, flipsPercent: 40, wrongToRight: 1, rightToWrong: 1, changedAnswers: 3 });
    assert.equal(accuracyOf(quant).accuracy, accuracyOf(base).accuracy, "same accuracy, yet 40% flipped");
    assert.equal(flipsAgainst(base, base).flips, 0);
  });

  it("efficiency = (accuracy% − chance%) / GB with chance from the choice counts", () => {
    assert.equal(chancePercent(base), 25);
    assert.equal(chancePercent([outcome("x", 0, 0, "s", 2), outcome("y", 0, 0, "s", 4)]), 37.5);
    // Unsloth's table: 68.2% on a 4.9 GB file.
    assert.ok(Math.abs(efficiency(68.2, 25, 4.9e9) - 43.2 / 4.9) < 1e-12);
  });
});

describe("greedy divergence statistics", () => {
  it("exact-match rate, mean matching prefix and first-divergence positions", () => {
    const base = [[1, 2, 3, 4], [1, 2, 3, 4], [5, 6, 7, 8], [9, 9]];
    const quant = [[1, 2, 3, 4], [1, 2, 0, 4], [0, 6, 7, 8], [9, 9]];
    const s = divergenceStats(base, quant, 4);
    assert.equal(s.exactMatchPercent, 50);
    assert.equal(s.meanMatchingPrefix, (4 + 2 + 0 + 4) / 4);
    assert.deepEqual(s.firstDivergence, [1, 0, 1, 0]);
    assert.equal(divergenceStats(base, base, 4).exactMatchPercent, 100);
    assert.equal(matchingPrefix([1, 2], [1, 2, 3], 4), 2, "one run stopping early diverges there");
  });

  it("reads plain-text and JSONL prompts, naming a bad line", () => {
    assert.deepEqual(parseDivergencePrompts("def f():\n\nimport os\n", "p.txt"), [{ kind: "text", text: "def f():" }, { kind: "text", text: "import os" }]);
    const j = parseDivergencePrompts('{"prompt":"a\\nb"}\n{"messages":[{"role":"user","content":"hi"}]}\n', "p.jsonl");
    assert.deepEqual(j, [{ kind: "text", text: "a\nb" }, { kind: "chat", messages: [{ role: "user", content: "hi" }] }]);
    assert.throws(() => parseDivergencePrompts('{"prompt":"a"}\n{"x":1}\n', "p.jsonl"), /p\.jsonl:2: expected/);
  });
});
