// Text the CLI writes into a GGUF (templates, @FILE values) must be UTF-8: GGUF strings are UTF-8,
// and decoding bad bytes the usual way would store U+FFFD in their place without a word.
import { promises as fsp } from "node:fs";
import { assertRegularFile } from "../core/gguf/fileWindow";

const strict = new TextDecoder("utf-8", { fatal: true });

/** Offset of the first byte that is not part of a valid UTF-8 sequence (the lenient decode marks it U+FFFD). */
function firstInvalidUtf8(b: Uint8Array): number {
  const text = new TextDecoder("utf-8").decode(b);
  let offset = 0;
  for (const ch of text) {
    const cp = ch.codePointAt(0) ?? 0;
    // A real U+FFFD in the file is EF BF BD; any other U+FFFD stands for bad bytes at this offset.
    if (cp === 0xfffd && !(b[offset] === 0xef && b[offset + 1] === 0xbf && b[offset + 2] === 0xbd)) return offset;
    offset += cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
  }
  return offset;
}

/** Reads a regular file as strict UTF-8; names the file and the first bad byte otherwise. */
export async function readUtf8File(file: string): Promise<string> {
  await assertRegularFile(file);
  const bytes = await fsp.readFile(file);
  try {
    return strict.decode(bytes);
  } catch {
    throw new Error(`${file} is not valid UTF-8 (first bad byte at offset ${firstInvalidUtf8(bytes)}); GGUF strings are UTF-8: convert it first (e.g. iconv -t UTF-8)`);
  }
}
