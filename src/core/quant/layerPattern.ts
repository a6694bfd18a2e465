// Regex text for a set of layer numbers, as a person would write it in a recipe rule:
// short runs listed ("0|1|2"), longer contiguous runs as digit ranges ("[3-9]|1[0-7]").
// Used by recipe extraction and by layer remapping; the output never contains upper-case
// letters, whitespace or '=' (llama-quantize's tensor-type file could not carry them).

/** Runs this long or longer are written as digit ranges instead of listed one by one. */
const RANGE_RUN_LENGTH = 4;

function digitClass(lo: number, hi: number): string {
  return lo === hi ? String(lo) : `[${lo}-${hi}]`;
}

/** Pieces of a regex matching exactly the decimal numbers lo..hi of the same digit count. */
function sameLengthPieces(lo: string, hi: string): string[] {
  if (lo.length === 1) return [digitClass(Number(lo), Number(hi))];
  if (lo[0] === hi[0]) return sameLengthPieces(lo.slice(1), hi.slice(1)).map((p) => lo[0] + p);
  const rest = lo.length - 1;
  const pieces: string[] = [];
  let first = Number(lo[0]);
  let last = Number(hi[0]);
  if (!/^0+$/.test(lo.slice(1))) {
    pieces.push(...sameLengthPieces(lo.slice(1), "9".repeat(rest)).map((p) => lo[0] + p));
    first++;
  }
  const highPieces: string[] = [];
  if (!/^9+$/.test(hi.slice(1))) {
    highPieces.push(...sameLengthPieces("0".repeat(rest), hi.slice(1)).map((p) => hi[0] + p));
    last--;
  }
  if (first <= last) pieces.push(digitClass(first, last) + "[0-9]".repeat(rest));
  return [...pieces, ...highPieces];
}

/** Regex alternatives matching exactly the whole numbers lo..hi (no leading zeros). */
export function numberRangePieces(lo: number, hi: number): string[] {
  const pieces: string[] = [];
  let from = lo;
  while (from <= hi) {
    const digits = String(from).length;
    const to = Math.min(hi, 10 ** digits - 1);
    pieces.push(...sameLengthPieces(String(from), String(to)));
    from = to + 1;
  }
  return pieces;
}

/** Sorted, de-duplicated runs of consecutive numbers: [[0,3],[7,7],...]. */
export function contiguousRuns(layers: Iterable<number>): [number, number][] {
  const sorted = [...new Set(layers)].sort((a, b) => a - b);
  const runs: [number, number][] = [];
  for (const n of sorted) {
    const last = runs.at(-1);
    if (last && n === last[1] + 1) last[1] = n;
    else runs.push([n, n]);
  }
  return runs;
}

/**
 * The layer part of a rule: "5", "(0|1|2)", "([0-9]|1[0-5]|31)". To be placed between
 * `blk\.` and `\.`, which bound it, so "1" never matches layer 10.
 */
export function layerAlternation(layers: Iterable<number>): string {
  const pieces: string[] = [];
  for (const [lo, hi] of contiguousRuns(layers)) {
    if (hi - lo + 1 >= RANGE_RUN_LENGTH) pieces.push(...numberRangePieces(lo, hi));
    else for (let n = lo; n <= hi; n++) pieces.push(String(n));
  }
  return pieces.length === 1 ? pieces[0] : `(${pieces.join("|")})`;
}

/** "0-3, 7, 9-12": layer sets for people (tables, reports). */
export function describeLayers(layers: Iterable<number>): string {
  return contiguousRuns(layers).map(([lo, hi]) => (lo === hi ? String(lo) : `${lo}-${hi}`)).join(", ");
}
