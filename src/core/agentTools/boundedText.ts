// Agent outputs go into a language model's context: every one is capped, whatever the file holds
// (a 262k-token vocabulary, 60k tensors, a template with thousands of findings).
import { escapeControlChars } from "../../shared/displayText";

/** The most characters any tool returns. */
export const MAX_TOOL_OUTPUT_CHARS = 16_000;

/** Caps the text at `max` characters (on a line boundary when one is near), saying what was cut. */
export function capText(text: string, max = MAX_TOOL_OUTPUT_CHARS): string {
  const clean = escapeControlChars(text);
  if (clean.length <= max) return clean;
  const note = `\n… output cut at ${max} characters (${clean.length} in all)`;
  const room = max - note.length;
  const cut = clean.lastIndexOf("\n", room);
  return clean.slice(0, cut > room * 0.8 ? cut : room) + note;
}

/** A Markdown table of at most `maxRows` rows, with a line counting the rows left out. */
export function markdownTable(header: readonly string[], rows: readonly (readonly string[])[], maxRows: number): string {
  const cell = (s: string) => s.replace(/\|/g, "\\|").replace(/\r?\n/g, " ");
  const lines = [`| ${header.map(cell).join(" | ")} |`, `|${header.map(() => "---").join("|")}|`, ...rows.slice(0, maxRows).map((r) => `| ${r.map(cell).join(" | ")} |`)];
  if (rows.length > maxRows) lines.push(`(${rows.length - maxRows} more rows not shown)`);
  return lines.join("\n");
}
