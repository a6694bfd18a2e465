// A sliding window over a file, filled by positioned reads. Parsers read synchronously from the
// window and ask for a refill only when a value crosses its end, so a header with hundreds of
// thousands of small values costs few syscalls and no per-value awaits. The window grows only
// when a single value is larger than it, so memory follows the largest item, not the file.
import { constants as fsConstants, promises as fsp, type Stats } from "node:fs";
import { GgufError } from "./errors";

const INITIAL_CHUNK = 256 * 1024;
const MAX_CHUNK = 8 * 1024 * 1024;

export class FileWindow {
  buf: Buffer = Buffer.alloc(0);
  /** Absolute offset of buf[0]. */
  start = 0;
  /** Absolute offset just past the valid bytes. */
  end = 0;
  private chunk = INITIAL_CHUNK;

  private constructor(
    private readonly handle: fsp.FileHandle,
    readonly size: number,
    readonly path: string,
    readonly littleEndianInit = true,
  ) {}

  static async open(path: string): Promise<FileWindow> {
    await assertRegularFile(path);
    let handle: fsp.FileHandle;
    try {
      // O_NONBLOCK: a FIFO swapped in after the check must not block the open (no effect on files).
      handle = await fsp.open(path, fsConstants.O_RDONLY | fsConstants.O_NONBLOCK);
    } catch (e) {
      throw new GgufError("io", `cannot open ${path}: ${(e as Error).message}`, undefined, path);
    }
    try {
      const stat = await handle.stat();
      if (!stat.isFile()) throw notAFile(path, stat);
      return new FileWindow(handle, stat.size, path);
    } catch (e) {
      await handle.close();
      if (e instanceof GgufError) throw e;
      throw new GgufError("io", `cannot stat ${path}: ${(e as Error).message}`, undefined, path);
    }
  }

  close(): Promise<void> {
    return this.handle.close();
  }

  remaining(pos: number): number {
    return this.size - pos;
  }

  /** Makes [pos, pos+n) readable in buf; throws a typed error if the file is shorter. */
  async load(pos: number, n: number, what: string): Promise<void> {
    if (pos + n > this.size) {
      throw new GgufError("truncated", `file ends inside ${what}: needs ${n} bytes, ${Math.max(0, this.size - pos)} left`, pos, this.path);
    }
    if (pos >= this.start && pos + n <= this.end) return;
    const want = Math.min(Math.max(n, this.chunk), this.size - pos);
    if (this.chunk < MAX_CHUNK) this.chunk *= 2;
    if (this.buf.length < want) this.buf = Buffer.allocUnsafe(want);
    let got = 0;
    while (got < want) {
      const { bytesRead } = await this.handle.read(this.buf, got, want - got, pos + got);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    this.start = pos;
    this.end = pos + got;
    if (got < n) throw new GgufError("truncated", `file shrank while reading ${what}`, pos, this.path);
  }

  /** Reads bytes [pos, pos+n) into a fresh buffer, bypassing the window (for raw copies). */
  async readRaw(pos: number, n: number): Promise<Buffer> {
    const out = Buffer.allocUnsafe(n);
    let got = 0;
    while (got < n) {
      const { bytesRead } = await this.handle.read(out, got, n - got, pos + got);
      if (bytesRead === 0) throw new GgufError("truncated", `file ends inside a raw read`, pos + got, this.path);
      got += bytesRead;
    }
    return out;
  }
}

function kindOf(stat: Stats): string {
  if (stat.isDirectory()) return "a directory";
  if (stat.isFIFO()) return "a FIFO (named pipe)";
  if (stat.isSocket()) return "a socket";
  if (stat.isCharacterDevice() || stat.isBlockDevice()) return "a device";
  return "not a regular file";
}

function notAFile(path: string, stat: Stats): GgufError {
  return new GgufError("not-a-file", `${path} is ${kindOf(stat)}, not a GGUF file`, undefined, path);
}

/**
 * Refuses directories, FIFOs, sockets and devices before anything opens them: opening a FIFO for
 * reading blocks until a writer appears, and reading a directory fails with a bare EISDIR.
 */
export async function assertRegularFile(path: string): Promise<void> {
  let stat: Stats;
  try {
    stat = await fsp.stat(path);
  } catch (e) {
    throw new GgufError("io", `cannot open ${path}: ${(e as Error).message}`, undefined, path);
  }
  if (!stat.isFile()) throw notAFile(path, stat);
}
