// Parses what llama-perplexity prints in --kl-divergence mode (tools/perplexity/perplexity.cpp of
// the bundled source): the per-chunk table and EVERY line of the "====== ... ======" sections.
// Unknown labels are kept (sections map), so a newer tool's extra statistics are not lost.

export interface ValueWithError {
  readonly value: number;
  /** The "± y" part, when printed. */
  readonly error?: number;
  /** True when the tool printed a "%" (value and error are then in percent). */
  readonly percent: boolean;
}

export interface KldChunkRow {
  readonly chunk: number;
  readonly ppl: ValueWithError;
  readonly lnPplRatio: ValueWithError;
  readonly kld: ValueWithError;
  readonly rmsDeltaP: ValueWithError;
  readonly sameTopP: ValueWithError;
}

/** The well-known statistics, pulled from the sections (undefined when not printed). */
export interface KldSummary {
  readonly meanPplQ?: ValueWithError;
  readonly meanPplBase?: ValueWithError;
  /** Cor(ln(PPL(Q)), ln(PPL(base))) in percent. */
  readonly corLnPpl?: ValueWithError;
  readonly meanLnPplRatio?: ValueWithError;
  readonly pplRatio?: ValueWithError;
  readonly pplDiff?: ValueWithError;
  readonly meanKld?: ValueWithError;
  readonly maxKld?: number;
  readonly kld99_9?: number;
  readonly kld99?: number;
  readonly kld95?: number;
  readonly kld90?: number;
  readonly medianKld?: number;
  readonly kld10?: number;
  readonly kld5?: number;
  readonly kld1?: number;
  readonly kld0_1?: number;
  readonly minKld?: number;
  /** Δp statistics in percent. */
  readonly meanDeltaP?: ValueWithError;
  readonly maxDeltaP?: number;
  readonly deltaP99_9?: number;
  readonly deltaP99?: number;
  readonly deltaP95?: number;
  readonly deltaP90?: number;
  readonly deltaP75?: number;
  readonly medianDeltaP?: number;
  readonly deltaP25?: number;
  readonly deltaP10?: number;
  readonly deltaP5?: number;
  readonly deltaP1?: number;
  readonly deltaP0_1?: number;
  readonly minDeltaP?: number;
  readonly rmsDeltaP?: ValueWithError;
  /** Percent of tokens where both models pick the same top token. */
  readonly sameTopP?: ValueWithError;
}

export interface PerplexityOutput {
  readonly chunks: readonly KldChunkRow[];
  /** section title ("KL divergence statistics") → normalized label ("99.9% KLD") → value. */
  readonly sections: Readonly<Record<string, Readonly<Record<string, ValueWithError>>>>;
  readonly summary: KldSummary;
  /** "computing over N chunks, n_ctx=C" when printed. */
  readonly chunkCount?: number;
  readonly contextSize?: number;
  /** "Final estimate: PPL = x +/- y" in plain perplexity mode. */
  readonly finalPpl?: ValueWithError;
  /** Error lines the tool printed (it can exit 0 after them). */
  readonly errors: readonly string[];
  /** The statistics block was lost and the summary comes from the last chunk row (running means). */
  readonly fromChunkRows?: boolean;
}

const NUM = String.raw`[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|[-+]?(?:nan|inf)`;
const VALUE_RE = new RegExp(String.raw`^(${NUM})\s*(%?)\s*(?:(?:±|\+/-)\s*(${NUM})\s*(%?))?\s*(%?)$`, "i");

/** "0.061189 ±   0.004114", "93.05%", "-4.146 ± 0.330 %", "11.304 ± 0.564 %". */
export function parseValueWithError(text: string): ValueWithError | undefined {
  const m = VALUE_RE.exec(text.trim());
  if (!m) return undefined;
  const value = Number(m[1]);
  const error = m[3] !== undefined ? Number(m[3]) : undefined;
  const percent = m[2] === "%" || m[4] === "%" || m[5] === "%";
  return error !== undefined ? { value, error, percent } : { value, percent };
}

const SECTION_RE = /^=+\s*(.+?)\s*=+$/;
const CHUNK_ROW_RE = new RegExp(
  String.raw`^\s*(\d+)` + String.raw`\s+(${NUM})\s*±\s*(${NUM})` + String.raw`\s+(${NUM})\s*±\s*(${NUM})` +
    String.raw`\s+(${NUM})\s*±\s*(${NUM})` + String.raw`\s+(${NUM})\s*±\s*(${NUM})\s*%` + String.raw`\s+(${NUM})\s*±\s*(${NUM})\s*%\s*$`,
  "i",
);
const COMPUTING_RE = /computing over (\d+) chunks, n_ctx=(\d+)/;
const FINAL_RE = /Final estimate: PPL = (\S+) \+\/- (\S+)/;
const ERROR_RE = /(you need at least \d+ tokens|tokenizes to only \d+ tokens|failed to open|does not look like a file containing log-probabilities|has been computed with \d+, while the current context is|inconsistent vocabulary|failed reading|you must provide a name of a file|failed to load model|error:)/i;

/** Strips llama.cpp's log prefix ("0.00.040.001 I ") so lines parse the same with and without timestamps. */
function stripLogPrefix(line: string): string {
  return line.replace(/^\d+\.\d+\.\d+\.\d+\s+[DIWE]\s/, "");
}

const normalizeLabel = (s: string) => s.replace(/\s+/g, " ").trim();

export function parsePerplexityOutput(lines: readonly string[]): PerplexityOutput {
  const chunks: KldChunkRow[] = [];
  const sections: Record<string, Record<string, ValueWithError>> = {};
  const errors: string[] = [];
  let section: string | undefined;
  let chunkCount: number | undefined;
  let contextSize: number | undefined;
  let finalPpl: ValueWithError | undefined;
  for (const raw of lines) {
    const line = stripLogPrefix(raw).trimEnd();
    if (ERROR_RE.test(line)) errors.push(line.trim());
    const sec = SECTION_RE.exec(line.trim());
    if (sec) {
      section = sec[1];
      sections[section] = sections[section] ?? {};
      continue;
    }
    const comp = COMPUTING_RE.exec(line);
    if (comp) {
      chunkCount = Number(comp[1]);
      contextSize = Number(comp[2]);
    }
    const fin = FINAL_RE.exec(line);
    if (fin) finalPpl = { value: Number(fin[1]), error: Number(fin[2]), percent: false };
    const row = CHUNK_ROW_RE.exec(line);
    if (row && !section) {
      const v = (i: number, percent = false): ValueWithError => ({ value: Number(row[i]), error: Number(row[i + 1]), percent });
      chunks.push({ chunk: Number(row[1]), ppl: v(2), lnPplRatio: v(4), kld: v(6), rmsDeltaP: v(8, true), sameTopP: v(10, true) });
      continue;
    }
    if (section && line.trim().length > 0) {
      const colon = line.lastIndexOf(":");
      if (colon > 0) {
        const value = parseValueWithError(line.slice(colon + 1));
        if (value) sections[section][normalizeLabel(line.slice(0, colon))] = value;
      }
    } else if (section && line.trim().length === 0 && Object.keys(sections[section]).length > 0) {
      section = undefined;
    }
  }
  return {
    chunks, sections, summary: summarize(sections), errors,
    ...(chunkCount !== undefined ? { chunkCount } : {}),
    ...(contextSize !== undefined ? { contextSize } : {}),
    ...(finalPpl ? { finalPpl } : {}),
  };
}

function summarize(sections: Record<string, Record<string, ValueWithError>>): KldSummary {
  const ppl = sections["Perplexity statistics"] ?? {};
  const kld = sections["KL divergence statistics"] ?? {};
  const tok = sections["Token probability statistics"] ?? {};
  const n = (v: ValueWithError | undefined) => v?.value;
  const s: Record<string, ValueWithError | number | undefined> = {
    meanPplQ: ppl["Mean PPL(Q)"],
    meanPplBase: ppl["Mean PPL(base)"],
    corLnPpl: ppl["Cor(ln(PPL(Q)), ln(PPL(base)))"],
    meanLnPplRatio: ppl["Mean ln(PPL(Q)/PPL(base))"],
    pplRatio: ppl["Mean PPL(Q)/PPL(base)"],
    pplDiff: ppl["Mean PPL(Q)-PPL(base)"],
    meanKld: kld["Mean KLD"],
    maxKld: n(kld["Maximum KLD"]),
    kld99_9: n(kld["99.9% KLD"]),
    kld99: n(kld["99.0% KLD"]),
    kld95: n(kld["95.0% KLD"]),
    kld90: n(kld["90.0% KLD"]),
    medianKld: n(kld["Median KLD"]),
    kld10: n(kld["10.0% KLD"]),
    kld5: n(kld["5.0% KLD"]),
    kld1: n(kld["1.0% KLD"]),
    kld0_1: n(kld["0.1% KLD"]),
    minKld: n(kld["Minimum KLD"]),
    meanDeltaP: tok["Mean Δp"],
    maxDeltaP: n(tok["Maximum Δp"]),
    deltaP99_9: n(tok["99.9% Δp"]),
    deltaP99: n(tok["99.0% Δp"]),
    deltaP95: n(tok["95.0% Δp"]),
    deltaP90: n(tok["90.0% Δp"]),
    deltaP75: n(tok["75.0% Δp"]),
    medianDeltaP: n(tok["Median Δp"]),
    deltaP25: n(tok["25.0% Δp"]),
    deltaP10: n(tok["10.0% Δp"]),
    deltaP5: n(tok["5.0% Δp"]),
    deltaP1: n(tok["1.0% Δp"]),
    deltaP0_1: n(tok["0.1% Δp"]),
    minDeltaP: n(tok["Minimum Δp"]),
    rmsDeltaP: tok["RMS Δp"],
    sameTopP: tok["Same top p"],
  };
  return Object.fromEntries(Object.entries(s).filter(([, v]) => v !== undefined)) as KldSummary;
}

/** Progress for the runner: a KLD chunk row or a perplexity "[N]" marker. */
export function createPerplexityProgressParser(): (line: string) => { fraction?: number; message: string } | undefined {
  let total: number | undefined;
  return (raw) => {
    const line = stripLogPrefix(raw);
    const comp = COMPUTING_RE.exec(line) ?? /calculating perplexity over (\d+) chunks/.exec(line);
    if (comp) {
      total = Number(comp[1]);
      return { fraction: 0, message: `0/${total} chunks` };
    }
    const row = CHUNK_ROW_RE.exec(line);
    if (row && total) return { fraction: Number(row[1]) / total, message: `chunk ${row[1]}/${total}` };
    // Base-logits pass prints "[1]1.2345,[2]..." on one growing line.
    const marks = line.match(/\[(\d+)\]/g);
    if (marks && total) {
      const last = Number(marks[marks.length - 1].slice(1, -1));
      return { fraction: Math.min(1, last / total), message: `chunk ${last}/${total}` };
    }
    return undefined;
  };
}
