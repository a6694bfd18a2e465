// Picks the line that names why a llama.cpp tool failed out of the end of its output. The last
// line is usually not it: after an abort it is a gdb/libc line ("../csu/libc-start.c: No such
// file or directory"), after a refused input it is the caller's summary ("failed to quantize
// model") while the cause ("tensor 'output.weight' has invalid data") is a few lines above.
import { boundedMessage } from "../../shared/displayText";

/** Most specific first; within a class the earliest line wins (later ones are consequences). */
const ERROR_CLASSES: readonly RegExp[] = [
  /GGML_ASSERT\(|GGML_ABORT|\bwhat\(\):\s*\S/,
  /invalid data|invalid ggml type|unknown (?:ggml )?type|out of memory|cannot allocate|std::bad_alloc|you need at least \d+ tokens|not enough space|No space left/i,
  /\berror\b\s*[:(]|error loading|failed to (?:read|open|load|quantize|allocate)\b[^:]{0,80}:\s*\S/i,
  /\b(?:error|failed|unable|cannot|could not|invalid|unsupported|mismatch)\b/i,
];

/** Debugger, libc and crash-handler chatter that follows an abort; never the cause. */
const NOISE: readonly RegExp[] = [
  /No such file or directory\.?$/, // gdb: ../csu/libc-start.c, ../sysdeps/…
  /^\[Inferior \d+ \(process \d+\) detached\]$/,
  /^#\d+\s+0x[0-9a-f]+/i, // backtrace frames
  /^(?:\[New LWP \d+\]|\[Thread debugging using|Using host libthread_db|\d+\s+\S+: No such file)/,
  /^(?:ptrace: Operation not permitted|warning: process \d+ is already traced|Could not attach to process)/i,
  /^(?:Aborted|Segmentation fault)(?: \(core dumped\))?$/,
];

const MAX_LINE_CHARS = 4000;

const isNoise = (line: string): boolean => NOISE.some((re) => re.test(line));

/** The line of `tails` (stderr first, then stdout) that best names the failure, escaped and capped. */
export function pickToolErrorLine(...tails: readonly string[]): string | undefined {
  for (const tail of tails) {
    // Lines are cut before matching: a tool can echo a megabyte of hostile input on one line.
    const lines = tail.split("\n").map((l) => l.slice(0, MAX_LINE_CHARS).trim()).filter((l) => l.length > 0 && !isNoise(l));
    for (const pattern of ERROR_CLASSES) {
      const hit = lines.find((l) => pattern.test(l));
      if (hit) return boundedMessage(hit, 500, 1);
    }
    const last = lines.at(-1);
    if (last) return boundedMessage(last, 500, 1);
  }
  return undefined;
}
