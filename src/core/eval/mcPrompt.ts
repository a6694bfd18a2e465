// Prompts as the original MMLU harness writes them (hendrycks/test, evaluate.py): a subject header,
// k solved examples, then the question, its lettered choices and "Answer:". Nothing else is
// appended ("The best answer is" and the like change the scores). The shots come from the dev split
// of the subject; without one, the subject's first k questions are the shots and are not scored.
import { LETTERS, QuestionSetError, type McQuestion, type QuestionSet } from "./questionSet";

export interface McPromptItem {
  readonly question: McQuestion;
  /** Header + shots: identical for every question of a subject, so its evaluation is shared. */
  readonly prefix: string;
  /** The question, its choices and "Answer:". */
  readonly suffix: string;
  readonly shots: number;
}

/**
 * " abstract algebra": the original's format_subject joins the words with a leading space, so its
 * header reads "about  abstract algebra." (two spaces). Kept: the point is to score as it does.
 */
export function formatSubject(subject: string): string {
  return subject.split("_").map((w) => ` ${w}`).join("");
}

export function subjectHeader(subject: string): string {
  return `The following are multiple choice questions (with answers) about ${formatSubject(subject)}.\n\n`;
}

/** format_example: question, "\nA. choice" per choice, "\nAnswer:" and, for shots, " B\n\n". */
export function formatExample(q: McQuestion, includeAnswer: boolean): string {
  let text = q.question;
  q.choices.forEach((c, j) => { text += `\n${LETTERS[j]}. ${c}`; });
  text += "\nAnswer:";
  if (includeAnswer) text += ` ${LETTERS[q.answer]}\n\n`;
  return text;
}

export interface BuildPromptsOptions {
  readonly shots: number;
  /** Score at most this many questions (in set order, after the shots are taken out). */
  readonly limit?: number;
}

/** Groups by subject (first appearance order) so each subject's prefix is evaluated once. */
export function buildMcPrompts(set: QuestionSet, options: BuildPromptsOptions): McPromptItem[] {
  const k = options.shots;
  if (!Number.isInteger(k) || k < 0) throw new Error(`shots must be a whole number ≥ 0, got ${k}`);
  const bySubject = new Map<string, McQuestion[]>();
  for (const q of set.questions) bySubject.set(q.subject, [...(bySubject.get(q.subject) ?? []), q]);
  const items: McPromptItem[] = [];
  for (const [subject, questions] of bySubject) {
    let shotQuestions: readonly McQuestion[];
    let scored: readonly McQuestion[];
    const dev = set.dev?.get(subject);
    if (dev) {
      if (dev.length < k) {
        throw new QuestionSetError(dev[0].file, undefined, `subject "${subject}" has ${dev.length} dev question${dev.length === 1 ? "" : "s"}, fewer than the ${k} shots asked for`);
      }
      shotQuestions = dev.slice(0, k);
      scored = questions;
    } else {
      if (questions.length <= k) {
        throw new QuestionSetError(questions[0].file, undefined,
          `subject "${subject}" has ${questions.length} question${questions.length === 1 ? "" : "s"}; with ${k} shots taken from them (no dev split) at least ${k + 1} are needed`);
      }
      shotQuestions = questions.slice(0, k);
      scored = questions.slice(k);
    }
    const prefix = subjectHeader(subject) + shotQuestions.map((q) => formatExample(q, true)).join("");
    for (const q of scored) items.push({ question: q, prefix, suffix: formatExample(q, false), shots: k });
  }
  return options.limit !== undefined ? items.slice(0, options.limit) : items;
}
