// Runs the hostile-input corpus (test/hostile/corpus.ts, 150+ crafted files and special files)
// through the reader, the summary, `inspect` (text and JSON) and `set-metadata`: valid files read
// and rewrite, invalid ones fail with a typed, coded error; nothing crashes, hangs or leaves files.
import assert from "node:assert/strict";
import { constants as fsConstants, promises as fsp } from "node:fs";
import os from "node:os";
import path from "node:path";
import { runCli } from "../../../src/cli/main";
import { GgufError, readGgufModel, summarizeGguf } from "../../../src/core/gguf";
import { isTempFileName } from "../../../src/core/tempFiles";
import { CorpusCase, writeHostileCorpus } from "../../hostile/corpus";

const BOUND_MS = 20_000;

async function bounded<T>(p: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const hung = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`HANG: ${what}`)), BOUND_MS); });
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

describe("hostile-input corpus", function () {
  this.timeout(600_000);
  let dir: string;
  let outDir: string;
  let corpus: CorpusCase[] = [];
  before(async () => {
    dir = await fsp.mkdtemp(path.join(os.tmpdir(), "gguf-hostile-"));
    outDir = path.join(dir, "out");
    await fsp.mkdir(outDir);
    corpus = await writeHostileCorpus(path.join(dir, "corpus"));
  });
  after(async () => {
    // Unblock any FIFO reader a regression left waiting, then clean up.
    for (const c of corpus) await fsp.open(c.path, fsConstants.O_WRONLY | fsConstants.O_NONBLOCK).then((h) => h.close(), () => undefined);
    for (const n of await fsp.readdir(path.join(dir, "corpus")).catch(() => [])) {
      if (n.includes("fifo")) await fsp.open(path.join(dir, "corpus", n), fsConstants.O_WRONLY | fsConstants.O_NONBLOCK).then((h) => h.close(), () => undefined);
    }
    await fsp.rm(dir, { recursive: true, force: true });
  });

  it("has at least 100 crafted files", () => {
    assert.ok(corpus.length >= 100, `${corpus.length} cases`);
    assert.ok(corpus.some((c) => c.expect === "valid") && corpus.some((c) => c.expect === "invalid"));
  });

  it("every file reads cleanly or fails with a typed error, as expected; inspect and set-metadata agree", async () => {
    const problems: string[] = [];
    const tally = { valid: 0, typedErrors: 0 };
    for (const c of corpus) {
      let readError: GgufError | undefined;
      try {
        for (const limit of [undefined, Infinity]) {
          const model = await bounded(readGgufModel(c.path, limit === undefined ? {} : { maxMaterializedArrayLength: limit }), `read ${c.name}`);
          summarizeGguf(model);
        }
      } catch (e) {
        if (e instanceof GgufError) readError = e;
        else {
          problems.push(`${c.name}: CRASH in the reader: ${e instanceof Error ? e.stack ?? e.message : String(e)}`.slice(0, 400));
          continue;
        }
      }
      if (readError) tally.typedErrors++;
      else tally.valid++;
      if (c.expect === "valid" && readError) problems.push(`${c.name}: valid file rejected: ${readError.message.slice(0, 200)}`);
      if (c.expect === "invalid" && !readError) problems.push(`${c.name}: invalid file accepted`);

      for (const args of [["inspect", c.path], ["inspect", c.path, "--json"]]) {
        const r = await bounded(cli(...args), `${args.join(" ")}`);
        if (readError) {
          if (r.code !== 1 || !/\([a-z-]+\)\n$/.test(r.err)) problems.push(`${c.name}: ${args.slice(2).join(" ") || "inspect"}: exit ${r.code}, not a coded error: ${r.err.slice(0, 200)}`);
          if (/\n\s+at /.test(r.err)) problems.push(`${c.name}: stack trace in inspect's error`);
        } else if (r.code !== 0) {
          problems.push(`${c.name}: inspect ${args.slice(2).join(" ")} failed on a readable file: ${r.err.slice(0, 200)}`);
        } else if (args.includes("--json")) {
          JSON.parse(r.out);
        }
      }

      const out = path.join(outDir, `${c.name}.out.gguf`);
      const w = await bounded(cli("set-metadata", c.path, out, "general.name=rewritten"), `set-metadata ${c.name}`);
      if (readError) {
        if (w.code === 0) problems.push(`${c.name}: set-metadata wrote a copy of an unreadable file`);
        else if (/\n\s+at /.test(w.err)) problems.push(`${c.name}: stack trace in set-metadata's error`);
      } else if (w.code !== 0 && !/split|shard/.test(c.name)) {
        problems.push(`${c.name}: set-metadata failed on a readable file: ${w.err.slice(0, 200)}`);
      } else if (w.code === 0) {
        const back = await readGgufModel(out);
        if (back.metadata.get("general.name")?.value !== "rewritten") problems.push(`${c.name}: the edit did not read back`);
      }
      await fsp.rm(out, { force: true });
    }
    assert.deepEqual((await fsp.readdir(outDir)).filter(isTempFileName), [], "no temp file left by any write");
    assert.deepEqual(problems, [], `${problems.length} problem(s); ${tally.valid} read, ${tally.typedErrors} typed errors`);
  });
});
