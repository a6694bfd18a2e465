// Things that are not regular files (a FIFO, a FIFO shard of a split set, a directory named
// x.gguf) and alignment values of the wrong type: each gets a coded error that names the problem,
// and nothing waits on a FIFO's writer.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { constants as fsConstants, promises as fsp } from "node:fs";
import path from "node:path";
import { runCli } from "../../../src/cli/main";
import { GgufError, readGgufFile, readGgufModel } from "../../../src/core/gguf";
import { buildGguf, makeTempDir, removeTempDir, smallModelSpec, writeTestGguf } from "./ggufTestBuilder";

/** A hang is the failure being tested: give up after a generous bound and say so. */
async function noHang<T>(p: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const hung = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`${what} hung on a FIFO`)), 20_000); });
  try {
    return await Promise.race([p, hung]);
  } finally {
    clearTimeout(timer);
  }
}

async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const code = await runCli(argv, { out: (t) => { out += t; }, err: (t) => { err += t; }, signal: new AbortController().signal });
  return { code, out, err };
}

describe("gguf reader: special files and alignment types", () => {
  let dir: string;
  const fifos: string[] = [];
  const mkfifo = (p: string): string => { execFileSync("mkfifo", [p]); fifos.push(p); return p; };
  before(async () => { dir = await makeTempDir(); });
  after(async () => {
    // Release any reader a regression left blocked on a FIFO, so the test process can end.
    for (const f of fifos) await fsp.open(f, fsConstants.O_WRONLY | fsConstants.O_NONBLOCK).then((h) => h.close(), () => undefined);
    await removeTempDir(dir);
  });

  it("a FIFO is refused as not-a-file, by the reader, inspect and quantize --dry-run", async () => {
    const fifo = mkfifo(path.join(dir, "pipe.gguf"));
    await assert.rejects(noHang(readGgufFile(fifo), "readGgufFile"), (e: unknown) => e instanceof GgufError && e.code === "not-a-file" && /FIFO/.test(e.message));
    const inspect = await noHang(cli("inspect", fifo), "inspect");
    assert.equal(inspect.code, 1);
    assert.match(inspect.err, /FIFO \(named pipe\), not a GGUF file.*\(not-a-file\)/);
    const dry = await noHang(cli("quantize", fifo, path.join(dir, "q.gguf"), "Q8_0", "--dry-run"), "quantize --dry-run");
    assert.equal(dry.code, 1);
    assert.match(dry.err, /FIFO/);
  });

  it("a FIFO shard of a split set is refused without waiting", async () => {
    const shard = (no: number) => smallModelSpec({
      kvs: [
        ...(no === 0 ? smallModelSpec().kvs ?? [] : []),
        { key: "split.no", type: 2, value: no },
        { key: "split.count", type: 2, value: 2 },
        { key: "split.tensors.count", type: 5, value: 14 },
      ],
    });
    const first = await writeTestGguf(dir, "m-00001-of-00002.gguf", shard(0));
    mkfifo(path.join(dir, "m-00002-of-00002.gguf"));
    await assert.rejects(noHang(readGgufModel(first), "readGgufModel"), (e: unknown) => e instanceof GgufError && e.code === "not-a-file");
    const dry = await noHang(cli("quantize", first, path.join(dir, "q2.gguf"), "Q8_0", "--dry-run"), "quantize --dry-run");
    assert.equal(dry.code, 1);
    assert.match(dry.err, /m-00002-of-00002\.gguf is a FIFO/);
  });

  it("a directory named x.gguf gets a coded error, not a bare EISDIR", async () => {
    const d = path.join(dir, "x.gguf");
    await fsp.mkdir(d);
    await assert.rejects(readGgufFile(d), (e: unknown) => e instanceof GgufError && e.code === "not-a-file" && /is a directory, not a GGUF file/.test(e.message));
    const r = await cli("inspect", d);
    assert.equal(r.code, 1);
    assert.match(r.err, /x\.gguf is a directory, not a GGUF file.*\(not-a-file\)/);
    assert.doesNotMatch(r.err, /EISDIR/);
  });

  it("an alignment stored as f32 or as a string names the wrong type", async () => {
    const withAlignment = (type: number, value: number | string) => {
      const spec = smallModelSpec();
      return buildGguf({ ...spec, kvs: [...(spec.kvs ?? []), { key: "general.alignment", type, value }] });
    };
    for (const [type, value, name] of [[6, 32, "f32"], [8, "32", "str"]] as const) {
      const p = await writeTestGguf(dir, `align-${name}.gguf`, withAlignment(type, value));
      await assert.rejects(readGgufFile(p), (e: unknown) => {
        assert.ok(e instanceof GgufError);
        assert.equal(e.code, "bad-alignment");
        assert.match(e.message, new RegExp(`stored as ${name} \\(value "?32"?\\)`));
        assert.doesNotMatch(e.message, /power of two/);
        return true;
      });
    }
    // A u32 that is not a power of two keeps the power-of-two message.
    const bad = await writeTestGguf(dir, "align-48.gguf", withAlignment(4, 48));
    await assert.rejects(readGgufFile(bad), /must be a power of two, got 48/);
  });
});
