// Which token ids spell an answer letter after "Answer:". Tokenizers spell "A" and " A" differently
// (Llama 3: two ids; SentencePiece: "▁A" and "A"), and a model may put its mass on either. Scoring
// only one of them undercounts: Unsloth measured Llama-3.1-8B-Instruct at 67.8% with one spelling
// and 68.2% with the better of both. So every letter gets both ids and the better logit counts.
import { LETTERS } from "./questionSet";

/** Text → token ids without BOS/special handling (the model's own tokenizer). */
export type Tokenize = (text: string) => readonly number[];

export interface LetterTokens {
  readonly letter: string;
  /** Distinct ids, in the order found: the spelling with a space, then the bare one. */
  readonly ids: readonly number[];
}

/** The id `tokenize(context + tail)` adds after `tokenize(context)`, when it adds exactly one. */
function continuationId(tokenize: Tokenize, context: string, tail: string): number | undefined {
  const head = tokenize(context);
  const whole = tokenize(context + tail);
  if (whole.length !== head.length + 1) return undefined;
  for (let i = 0; i < head.length; i++) if (head[i] !== whole[i]) return undefined;
  return whole[whole.length - 1];
}

/**
 * Both spellings of each letter as the model would produce them right after "Answer:", found by
 * tokenizing in context (a SentencePiece tokenizer gives a different id to "A" at the start of a
 * text than after ":"); a spelling that is one token on its own is taken too.
 */
export function answerLetterTokens(tokenize: Tokenize, choiceCount: number): LetterTokens[] {
  const out: LetterTokens[] = [];
  for (let i = 0; i < choiceCount; i++) {
    const letter = LETTERS[i];
    const ids: number[] = [];
    const add = (id: number | undefined) => { if (id !== undefined && !ids.includes(id)) ids.push(id); };
    add(continuationId(tokenize, "Answer:", ` ${letter}`));
    add(continuationId(tokenize, "Answer:", letter));
    for (const spelling of [` ${letter}`, letter]) {
      const alone = tokenize(spelling);
      if (alone.length === 1) add(alone[0]);
    }
    if (ids.length === 0) throw new Error(`the tokenizer has no single token for the answer letter "${letter}" (with or without a leading space)`);
    out.push({ letter, ids });
  }
  return out;
}

/** Every id any letter uses: the only logits the evaluator needs to read. */
export function allLetterIds(letters: readonly LetterTokens[]): number[] {
  return [...new Set(letters.flatMap((l) => l.ids))];
}

export interface LetterChoice {
  /** Index of the chosen letter. */
  readonly choice: number;
  /** Per letter: the better logit of its spellings. */
  readonly scores: readonly number[];
}

/** The letter whose best spelling has the highest logit (ties: the earlier letter). */
export function chooseLetter(logits: ReadonlyMap<number, number>, letters: readonly LetterTokens[]): LetterChoice {
  const scores = letters.map((l) => Math.max(...l.ids.map((id) => logits.get(id) ?? Number.NEGATIVE_INFINITY)));
  let choice = 0;
  for (let i = 1; i < scores.length; i++) if (scores[i] > scores[choice]) choice = i;
  return { choice, scores };
}
