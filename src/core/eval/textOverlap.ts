// Evaluation text must not be the calibration text: an imatrix tuned on the text that judges it
// makes KLD look better than it is. Overlap is measured on normalized lines of some length, so
// boilerplate like blank lines or "}" does not count.

export interface TextOverlap {
  /** Fraction of the eval text's distinct meaningful lines that also occur in the calibration text. */
  readonly fraction: number;
  readonly sharedLines: number;
  readonly evalLines: number;
  readonly identical: boolean;
}

const MIN_LINE = 24;

function meaningfulLines(text: string): Set<string> {
  const out = new Set<string>();
  for (const raw of text.split(/\r?\n/)) {
    const l = raw.trim().replace(/\s+/g, " ");
    if (l.length >= MIN_LINE) out.add(l);
  }
  return out;
}

export function measureTextOverlap(evalText: string, calibText: string): TextOverlap {
  const e = meaningfulLines(evalText);
  const c = meaningfulLines(calibText);
  let shared = 0;
  for (const l of e) if (c.has(l)) shared++;
  return { fraction: e.size > 0 ? shared / e.size : 0, sharedLines: shared, evalLines: e.size, identical: evalText === calibText };
}

/** Above this share of lines, the user is warned (below it, common code idioms are expected). */
export const OVERLAP_WARNING_FRACTION = 0.1;

export function overlapWarning(o: TextOverlap): string | undefined {
  if (o.identical) return "the evaluation text is the calibration text: KLD measured on it is biased towards the imatrix. Use a held-out text.";
  if (o.fraction >= OVERLAP_WARNING_FRACTION) {
    return `${(o.fraction * 100).toFixed(1)}% of the evaluation text's lines (${o.sharedLines} of ${o.evalLines}) also occur in the calibration text; KLD will look better than it is.`;
  }
  return undefined;
}
