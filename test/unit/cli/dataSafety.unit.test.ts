// Data safety of the writing commands: existing outputs are refused without --overwrite, bytes of
// entries that are not edited survive exactly (UTF-8 or not), new text must be UTF-8, temp files
// are named after their process and swept once it is gone, and SIGTERM/SIGHUP clean up like Ctrl-C.
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import crypto from "node:crypto";
import { promises as fsp } from "node:fs";
import os from "node:os";
import path from "node:path";
import { runCli } from "../../../src/cli/main";
import { GgufError, GgufValueType, readGgufFile, writeGgufWithMetadata } from "../../../src/core/gguf";
import { scanForGguf } from "../../../src/core/models/folderScan";
import { isTempFileName, tempFileOwner } from "../../../src/core/tempFiles";
import { buildGguf, smallModelSpec } from "../gguf/ggufTestBuilder";

const ROOT = path.resolve(__dirname, "../../../..");
const CLI = path.join(ROOT, "dist/cli.js");
const MOE = path.join(ROOT, "test/fixtures/tiny-moe-f16.gguf");

async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const code = await runCli(argv, { out: (t) => { out += t; }, err: (t) => { err += t; }, signal: new AbortController().signal });
  return { code, out, err };
}

const sha = async (p: string): Promise<string> => crypto.createHash("sha256").update(await fsp.readFile(p)).digest("hex");

/** A pid that belonged to a process that has ended. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], { encoding: "utf8" });
  return Number(r.stdout);
}

/** smallModelSpec with a key and a string value whose bytes are not valid UTF-8 (Latin-1 "café" and a stray 0xff). */
function nonUtf8Gguf(): { file: Buffer; rawKey: Buffer; rawValue: Buffer } {
  const spec = smallModelSpec();
  spec.kvs = [...(spec.kvs ?? []), { key: "test.KEY_PLACEHOLDER", type: 8, value: "VALUE_PLACEHOLDER" }];
  const file = buildGguf(spec);
  const rawKey = Buffer.from("test.caf\xe9_\xff_key_____", "latin1"); // same length as "test.KEY_PLACEHOLDER"
  const rawValue = Buffer.from("caf\xe9 \xff\xfe bytes\x80!!!", "latin1"); // same length as "VALUE_PLACEHOLDER"
  assert.equal(rawKey.length, "test.KEY_PLACEHOLDER".length);
  assert.equal(rawValue.length, "VALUE_PLACEHOLDER".length);
  rawKey.copy(file, file.indexOf("test.KEY_PLACEHOLDER"));
  rawValue.copy(file, file.indexOf("VALUE_PLACEHOLDER"));
  return { file, rawKey, rawValue };
}

describe("data safety of the writing commands", () => {
  let dir: string;
  before(async () => { dir = await fsp.mkdtemp(path.join(os.tmpdir(), "gguf-datasafety-")); });
  after(async () => { await fsp.rm(dir, { recursive: true, force: true }); });

  it("set-metadata, template set and template fix --out refuse an existing output without --overwrite", async () => {
    const out = path.join(dir, "existing.gguf");
    await fsp.writeFile(out, "precious, not a model");
    const tpl = path.join(dir, "t.jinja");
    await fsp.writeFile(tpl, "{% for m in messages %}{{ m.content }}{% endfor %}");
    const runs = [
      await cli("set-metadata", MOE, out, "general.name=x"),
      await cli("template", "set", MOE, tpl, out),
      await cli("template", "fix", MOE, "--out", out),
      await cli("template", "fix", tpl, "--out", out),
      // Its quant (existing.gguf, beside the recipe) exists: refused before any probing.
      await cli("recipe", "optimize", MOE, "--budget", "4.5bpw", "--calib", tpl, "--eval", tpl, "--out", path.join(dir, "existing.quant.json")),
    ];
    await fsp.writeFile(path.join(dir, "existing.quant.json"), "{}");
    runs.push(await cli("recipe", "optimize", MOE, "--budget", "4.5bpw", "--calib", tpl, "--eval", tpl, "--out", path.join(dir, "existing.quant.json")));
    for (const [i, r] of runs.entries()) {
      assert.equal(r.code, 1, `run ${i}: ${r.err}`);
      assert.doesNotMatch(r.err, /usage:/, `run ${i}`);
      assert.match(r.err, /already exists?; pass --overwrite to replace (it|them).*\(output-exists\)/, `run ${i}: ${r.err}`);
    }
    assert.equal(await fsp.readFile(out, "utf8"), "precious, not a model");
    assert.equal(await fsp.readFile(path.join(dir, "existing.quant.json"), "utf8"), "{}");

    const ok = await cli("set-metadata", MOE, out, "general.name=x", "--overwrite");
    assert.equal(ok.code, 0, ok.err);
    assert.equal((await readGgufFile(out)).metadata.get("general.name")?.value, "x");
    const okSet = await cli("template", "set", MOE, tpl, out, "--overwrite");
    assert.equal(okSet.code, 0, okSet.err);
  });

  it("the core writer refuses an output that exists, and one that appears while it writes", async () => {
    const out = path.join(dir, "race.gguf");
    await fsp.writeFile(out, "x");
    await assert.rejects(writeGgufWithMetadata({ input: MOE, output: out, edits: {} }), /already exists/);
    await fsp.rm(out);
    await assert.rejects(writeGgufWithMetadata({
      input: MOE, output: out, edits: {},
      beforeVerify: async () => { await fsp.writeFile(out, "appeared meanwhile"); },
    }), /already exists/);
    assert.equal(await fsp.readFile(out, "utf8"), "appeared meanwhile");
    assert.deepEqual((await fsp.readdir(dir)).filter(isTempFileName), []);
  });

  it("set-metadata keeps the bytes of keys and values it does not edit, UTF-8 or not", async () => {
    const { file, rawKey, rawValue } = nonUtf8Gguf();
    const input = path.join(dir, "latin1.gguf");
    await fsp.writeFile(input, file);
    const out = path.join(dir, "latin1-edited.gguf");
    // general.file_type is a u32: the edited file has the same length, so every other byte must match.
    const r = await cli("set-metadata", input, out, "general.file_type=1");
    assert.equal(r.code, 0, r.err);
    const edited = await fsp.readFile(out);
    assert.equal(edited.length, file.length);
    assert.ok(edited.includes(rawKey) && edited.includes(rawValue), "the non-UTF-8 key and value are byte-identical");
    const at = file.indexOf("general.file_type") + "general.file_type".length + 4;
    const diff = [...edited.keys()].filter((i) => edited[i] !== file[i]);
    assert.deepEqual(diff, [at], "only the edited value's byte differs");
    assert.equal(edited.readUInt32LE(at), 1);
  });

  it("refuses a new value that is not UTF-8, naming the file and the byte", async () => {
    const bad = path.join(dir, "latin1.jinja");
    await fsp.writeFile(bad, Buffer.from("{{ 'caf\xe9' }}", "latin1"));
    const out = path.join(dir, "never.gguf");
    const r = await cli("set-metadata", MOE, out, `tokenizer.chat_template=@${bad}`);
    assert.equal(r.code, 2);
    assert.match(r.err, /latin1\.jinja is not valid UTF-8 \(first bad byte at offset 7\)/);
    const t = await cli("template", "set", MOE, bad, out);
    assert.equal(t.code, 1);
    assert.match(t.err, /not valid UTF-8 \(first bad byte at offset 7\)/);
    await assert.rejects(fsp.access(out));
    // A lone surrogate (from JSON or an API caller) has no UTF-8 form either.
    await assert.rejects(
      writeGgufWithMetadata({ input: MOE, output: out, edits: { set: [{ key: "general.name", type: GgufValueType.STRING, value: "a\ud800b" }] } }),
      (e: unknown) => e instanceof GgufError && e.code === "bad-edit" && /not valid Unicode/.test(e.message),
    );
  });

  it("temp files carry the writing process's pid; stale ones are swept by the next run and never listed as models", async () => {
    const sub = await fsp.mkdtemp(path.join(dir, "sweep-"));
    const dead = deadPid();
    const stale = [
      path.join(sub, `.old.gguf.gguf-studio-${dead}-0a1b2c3d.partial`),
      path.join(sub, `.q.gguf.gguf-studio-${dead}-0a1b2c3d.partial.gguf`),
      path.join(sub, `.q.partial-${dead}-abcdef.gguf`),
    ];
    const alive = path.join(sub, `.busy.gguf.gguf-studio-${process.pid}-0a1b2c3d.partial.gguf`);
    for (const p of [...stale, alive]) await fsp.writeFile(p, "partial bytes");
    const listed = await scanForGguf(sub);
    assert.deepEqual(listed.files.map((f) => path.basename(f.path)), [], "temp files are not models");

    let seen: string | undefined;
    const out = path.join(sub, "fresh.gguf");
    await writeGgufWithMetadata({ input: MOE, output: out, edits: {}, beforeVerify: async (t) => { seen = path.basename(t); } });
    assert.ok(seen && tempFileOwner(seen) === process.pid, `temp name ${seen}`);
    assert.match(seen, /^\.fresh\.gguf\.gguf-studio-\d+-[0-9a-f]{8}\.partial$/);
    const left = (await fsp.readdir(sub)).sort();
    assert.deepEqual(left, [path.basename(alive), "fresh.gguf"].sort(), "stale temps swept, a live process's temp kept");
  });

  for (const signal of ["SIGTERM", "SIGHUP", "SIGINT"] as const) {
    it(`${signal} during set-metadata removes the temp file, leaves no output and exits 128+n`, async () => {
      const sub = await fsp.mkdtemp(path.join(dir, `sig-${signal}-`));
      const out = path.join(sub, "out.gguf");
      const before = await sha(MOE);
      const child = spawn(process.execPath, [CLI, "set-metadata", MOE, out, "general.name=signalled"], { stdio: ["ignore", "pipe", "pipe"] });
      let stderr = "";
      child.stderr.on("data", (c: Buffer) => { stderr += c.toString(); });
      let done = false;
      const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => { done = true; resolve(code); }));
      // Wait for the event that matters, the temp file appearing, then signal.
      let tempSeen = false;
      while (!tempSeen) {
        const names = await fsp.readdir(sub);
        tempSeen = names.some(isTempFileName);
        if (names.includes("out.gguf") || done) break; // finished before we caught it: then the output must be whole
        if (!tempSeen) await new Promise((r) => setImmediate(r));
      }
      child.kill(signal);
      const code = await exited;
      const names = await fsp.readdir(sub);
      assert.deepEqual(names.filter(isTempFileName), [], `no temp file left (${stderr})`);
      if (tempSeen && !names.includes("out.gguf")) {
        assert.equal(code, 128 + os.constants.signals[signal], stderr);
      } else {
        assert.equal((await readGgufFile(out)).metadata.get("general.name")?.value, "signalled");
      }
      assert.equal(await sha(MOE), before, "the source is intact");
    });
  }
});
