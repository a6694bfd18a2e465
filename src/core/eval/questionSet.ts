// Multiple-choice question sets: JSONL ({question, choices[], answer (index or letter), subject?}) or
// the MMLU CSV layout (question,A,B,C,D,answer; no header; one file per subject, the subject taken
// from the file name), with an optional dev split for the shots. Every bad line is an error naming
// the file, the line and the problem: a silently skipped question changes the accuracy.
import fs from "node:fs";
import path from "node:path";

export interface McQuestion {
  /** Stable across runs of the same set: "<subject>#<n>" (n counts the subject's questions from 0). */
  readonly id: string;
  readonly subject: string;
  readonly question: string;
  readonly choices: readonly string[];
  /** Index into choices. */
  readonly answer: number;
  readonly file: string;
  readonly line: number;
}

export interface QuestionSet {
  /** The questions to score (shots taken from them are removed later, by the prompt builder). */
  readonly questions: readonly McQuestion[];
  /** Dev-split questions by subject (the shots), when a dev split was given. */
  readonly dev?: ReadonlyMap<string, readonly McQuestion[]>;
  readonly files: readonly string[];
}

export class QuestionSetError extends Error {
  constructor(readonly file: string, readonly line: number | undefined, readonly problem: string) {
    super(`${file}${line !== undefined ? `:${line}` : ""}: ${problem}`);
    this.name = "QuestionSetError";
  }
}

export const LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** An answer as an index (0-based number) or a letter ("B", "b"); outside the choices is an error. */
function parseAnswer(raw: unknown, choiceCount: number, fail: (problem: string) => never): number {
  let index: number;
  if (typeof raw === "number" && Number.isInteger(raw)) index = raw;
  else if (typeof raw === "string" && /^\s*[A-Za-z]\s*$/.test(raw)) index = LETTERS.indexOf(raw.trim().toUpperCase());
  else if (typeof raw === "string" && /^\s*\d+\s*$/.test(raw)) index = Number(raw);
  else fail(`answer must be a choice index (0-based) or a letter, got ${JSON.stringify(raw)?.slice(0, 40) ?? String(raw)}`);
  if (index < 0 || index >= choiceCount) {
    fail(`answer ${JSON.stringify(raw)} is outside the ${choiceCount} choices (${LETTERS[0]}-${LETTERS[choiceCount - 1]}, or 0-${choiceCount - 1})`);
  }
  return index;
}

function checkChoices(count: number, fail: (problem: string) => never): void {
  if (count < 2) fail(`a question needs at least 2 choices, this one has ${count}`);
  if (count > LETTERS.length) fail(`a question can have at most ${LETTERS.length} choices, this one has ${count}`);
}

/** One question per line; blank lines are skipped. */
export function parseJsonlQuestions(text: string, file: string, defaultSubject: string): McQuestion[] {
  const out: McQuestion[] = [];
  const perSubject = new Map<string, number>();
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i].trim();
    if (raw.length === 0) continue;
    const fail = (problem: string): never => { throw new QuestionSetError(file, i + 1, problem); };
    let record: unknown;
    try {
      record = JSON.parse(raw);
    } catch (e) {
      fail(`not valid JSON (${e instanceof Error ? e.message : String(e)})`);
    }
    if (!isRecord(record)) fail("a question must be a JSON object {question, choices, answer}");
    const r = record as Record<string, unknown>;
    if (typeof r.question !== "string" || r.question.trim() === "") fail('"question" must be a non-empty string');
    if (!Array.isArray(r.choices)) fail('"choices" must be an array of strings');
    const choices = r.choices as unknown[];
    checkChoices(choices.length, fail);
    choices.forEach((c, k) => { if (typeof c !== "string") fail(`choice ${k + 1} is not a string`); });
    if (r.answer === undefined) fail('"answer" is missing');
    if (r.subject !== undefined && typeof r.subject !== "string") fail('"subject" must be a string');
    const subject = (r.subject as string | undefined)?.trim() || defaultSubject;
    const n = perSubject.get(subject) ?? 0;
    perSubject.set(subject, n + 1);
    out.push({ id: `${subject}#${n}`, subject, question: r.question as string, choices: choices as string[], answer: parseAnswer(r.answer, choices.length, fail), file, line: i + 1 });
  }
  if (out.length === 0) throw new QuestionSetError(file, undefined, "holds no questions");
  return out;
}

/** RFC 4180 rows (quoted fields may hold commas, quotes as "" and newlines), each with its first line number. */
export function parseCsvRows(text: string, file: string): { cells: string[]; line: number }[] {
  const rows: { cells: string[]; line: number }[] = [];
  let cells: string[] = [];
  let cell = "";
  let quoted = false;
  let line = 1;
  let rowLine = 1;
  let quoteLine = 1;
  let fieldStart = true;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"') {
        if (text[i + 1] === '"') { cell += '"'; i++; } else { quoted = false; }
      } else {
        if (ch === "\n") line++;
        cell += ch;
      }
      continue;
    }
    if (ch === '"' && fieldStart) { quoted = true; quoteLine = line; fieldStart = false; continue; }
    if (ch === '"') throw new QuestionSetError(file, line, "malformed CSV: a quote inside an unquoted field (quote the whole field and double inner quotes)");
    if (ch === ",") { cells.push(cell); cell = ""; fieldStart = true; continue; }
    if (ch === "\r" && text[i + 1] === "\n") continue;
    if (ch === "\n") {
      cells.push(cell);
      if (cells.length > 1 || cells[0] !== "") rows.push({ cells, line: rowLine });
      cells = []; cell = ""; fieldStart = true; line++; rowLine = line;
      continue;
    }
    // Text after a closing quote ("a"b) is malformed too.
    if (!fieldStart && cell !== "" && text[i - 1] === '"') throw new QuestionSetError(file, line, "malformed CSV: text after a closing quote");
    cell += ch;
    fieldStart = false;
  }
  if (quoted) throw new QuestionSetError(file, quoteLine, "malformed CSV: a quoted field is never closed");
  cells.push(cell);
  if (cells.length > 1 || cells[0] !== "") rows.push({ cells, line: rowLine });
  return rows;
}

/** MMLU's file names: abstract_algebra_test.csv, abstract_algebra_dev.csv, abstract_algebra_val.csv. */
export function subjectFromFileName(file: string): string {
  return path.basename(file).replace(/\.(csv|jsonl)$/i, "").replace(/_(test|dev|val|validation|train)$/i, "");
}

/** question, choice…, answer letter; at least 2 choices. */
export function parseMmluCsv(text: string, file: string, subject = subjectFromFileName(file)): McQuestion[] {
  const out: McQuestion[] = [];
  for (const { cells, line } of parseCsvRows(text, file)) {
    const fail = (problem: string): never => { throw new QuestionSetError(file, line, problem); };
    if (cells.length < 3) fail(`malformed row: expected question,A,B,…,answer, got ${cells.length} field${cells.length === 1 ? "" : "s"}`);
    const choices = cells.slice(1, -1);
    checkChoices(choices.length, fail);
    if (cells[0].trim() === "") fail("the question is empty");
    const answer = parseAnswer(cells[cells.length - 1].trim(), choices.length, fail);
    out.push({ id: `${subject}#${out.length}`, subject, question: cells[0], choices, answer, file, line });
  }
  if (out.length === 0) throw new QuestionSetError(file, undefined, "holds no questions");
  return out;
}

async function readText(file: string): Promise<string> {
  try {
    return await fs.promises.readFile(file, "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new QuestionSetError(file, undefined, code === "ENOENT" ? "no such file" : code === "EISDIR" ? "is a folder" : `cannot be read (${code ?? String(e)})`);
  }
}

/** A file (.jsonl or .csv) or a folder of them; MMLU's data folder (test/ and dev/) works as a whole. */
async function questionFiles(target: string): Promise<string[]> {
  let stat: fs.Stats;
  try {
    stat = await fs.promises.stat(target);
  } catch {
    throw new QuestionSetError(target, undefined, "no such file or folder");
  }
  if (!stat.isDirectory()) return [target];
  const names = (await fs.promises.readdir(target)).sort();
  const files = names.filter((n) => /\.(csv|jsonl)$/i.test(n)).map((n) => path.join(target, n));
  if (files.length > 0) return files;
  if (names.includes("test")) return questionFiles(path.join(target, "test"));
  throw new QuestionSetError(target, undefined, "the folder holds no .csv or .jsonl question files");
}

async function parseFile(file: string): Promise<McQuestion[]> {
  const text = await readText(file);
  return /\.jsonl$/i.test(file) || text.trimStart().startsWith("{")
    ? parseJsonlQuestions(text, file, subjectFromFileName(file))
    : parseMmluCsv(text, file);
}

/**
 * Reads the set and, when given, the dev split (a file or folder in either format; MMLU's data
 * folder brings its own dev/ when `devTarget` is not given).
 */
export async function loadQuestionSet(target: string, devTarget?: string): Promise<QuestionSet> {
  const files = await questionFiles(target);
  const questions: McQuestion[] = [];
  for (const f of files) questions.push(...(await parseFile(f)));
  // Ids count per subject across files, so two files of one subject do not collide.
  const seen = new Map<string, number>();
  questions.forEach((q, i) => {
    const n = seen.get(q.subject) ?? 0;
    seen.set(q.subject, n + 1);
    questions[i] = { ...q, id: `${q.subject}#${n}` };
  });
  let devDir = devTarget;
  if (devDir === undefined && path.basename(path.dirname(files[0])) === "test") {
    const sibling = path.join(path.dirname(path.dirname(files[0])), "dev");
    if (fs.existsSync(sibling)) devDir = sibling;
  }
  if (devDir === undefined) return { questions, files };
  const dev = new Map<string, McQuestion[]>();
  const devFiles = await questionFiles(devDir);
  for (const f of devFiles) for (const q of await parseFile(f)) dev.set(q.subject, [...(dev.get(q.subject) ?? []), q]);
  return { questions, dev, files: [...files, ...devFiles] };
}
