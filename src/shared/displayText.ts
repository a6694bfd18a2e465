// Text from files (tensor names, metadata, templates, tool output) is attacker-controlled. Before
// it reaches a terminal or a message it goes through here: control characters that a terminal
// acts on (ESC/CSI/OSC, C0, DEL, C1) or that reorder what the reader sees (bidi overrides and
// isolates, line/paragraph separators) become visible `\uXXXX` escapes, and names are capped so
// a 1 MB tensor name cannot make a 1 MB message. `\uXXXX` is also a valid JSON escape, so JSON
// output escaped here still parses to the same strings.

/** C0 (except tab and newline), DEL, C1, the bidi formatting characters and U+2028/U+2029. */
const UNSAFE_KEEPING_NEWLINES = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/g;
/** The same plus tab and newline: for text that must stay on one line (names, messages). */
const UNSAFE_ONE_LINE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/g;

const escapeChar = (c: string): string => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`;

/** Escapes terminal and bidi control characters; keeps tab and newline (for multi-line output). */
export function escapeControlChars(text: string): string {
  return text.replace(UNSAFE_KEEPING_NEWLINES, escapeChar);
}

/** Escapes every control character, tab and newline included: the result is one line. */
export function escapeToOneLine(text: string): string {
  return text.replace(UNSAFE_ONE_LINE, escapeChar);
}

/** Cuts `text` to at most `max` UTF-16 units without splitting a surrogate pair. */
function cut(text: string, max: number): string {
  const end = max > 0 && /[\ud800-\udbff]/.test(text[max - 1] ?? "") ? max - 1 : max;
  return text.slice(0, end);
}

export const MAX_NAME_CHARS = 120;
export const MAX_MESSAGE_CHARS = 2000;

/**
 * A name (tensor, key, file) as it may appear inside a message: one line, escaped, and at most
 * about `max` characters; a longer one keeps its start and says how long it was.
 */
export function displayName(name: string, max = MAX_NAME_CHARS): string {
  const safe = escapeToOneLine(cut(name, max * 2));
  if (name.length <= max && safe.length <= max) return safe;
  return `${cut(safe, max)}… (${name.length} characters)`;
}

export const MAX_MESSAGE_LINES = 20;

/**
 * A whole message for a notification, a log line or a CLI error: escaped (newlines kept), at most
 * `maxChars` characters and `maxLines` lines; what is cut is counted, never silently dropped.
 */
export function boundedMessage(message: string, maxChars = MAX_MESSAGE_CHARS, maxLines = MAX_MESSAGE_LINES): string {
  let text = escapeControlChars(cut(message, maxChars));
  let cutNote = "";
  if (text.length > maxChars || message.length > maxChars) {
    text = cut(text, maxChars);
    cutNote = `… (cut from ${message.length} characters)`;
  }
  const lines = text.split("\n");
  if (lines.length > maxLines) {
    text = lines.slice(0, maxLines).join("\n");
    cutNote = `\n… (cut from ${message.split("\n").length} lines)`;
  }
  return text + cutNote;
}
