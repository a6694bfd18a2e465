import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { RUN_HISTORY_MAX_ENTRIES, RunHistoryStore, type RunRecord } from "../../../src/core/quant/runHistory";
import { tempDir } from "./quantTestSupport";

function record(i: number): Omit<RunRecord, "id"> {
  return {
    startedAt: new Date(1_700_000_000_000 + i * 1000).toISOString(),
    finishedAt: new Date(1_700_000_000_500 + i * 1000).toISOString(),
    status: "succeeded",
    source: `/m/src-${i}.gguf`,
    output: `/m/out-${i}.gguf`,
    type: "Q4_K_M",
    commands: [{ tool: "llama-quantize", executable: "/bin/llama-quantize", args: ["/m/src.gguf", "/m/out.gguf", "Q4_K_M"], commandLine: "/bin/llama-quantize /m/src.gguf /m/out.gguf Q4_K_M" }],
    durationMs: 500,
    outputBytes: 1000 + i,
  };
}

describe("run history", () => {
  let dir: string;
  beforeEach(() => {
    dir = tempDir("history");
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("starts empty, lists newest first and survives a new store on the same file", async () => {
    const file = path.join(dir, "nested/history.json");
    const store = new RunHistoryStore(file);
    assert.deepEqual(await store.list(), []);
    const a = await store.append(record(1));
    await store.append(record(2));
    const again = await new RunHistoryStore(file).list();
    assert.deepEqual(again.map((r) => r.output), ["/m/out-2.gguf", "/m/out-1.gguf"]);
    assert.deepEqual(again[1], a);
    assert.deepEqual(fs.readdirSync(path.dirname(file)), ["history.json"], "no temp files left");
  });

  it("keeps every record when many runs finish at once", async () => {
    const store = new RunHistoryStore(path.join(dir, "h.json"));
    await Promise.all(Array.from({ length: 25 }, (_, i) => store.append(record(i))));
    const runs = await store.list();
    assert.equal(runs.length, 25);
    assert.equal(new Set(runs.map((r) => r.id)).size, 25);
  });

  it("drops the oldest runs past the cap, and removes one by id", async () => {
    const file = path.join(dir, "h.json");
    const runs = Array.from({ length: RUN_HISTORY_MAX_ENTRIES + 3 }, (_, i) => ({ ...record(i), id: `r${i}` }));
    fs.writeFileSync(file, JSON.stringify({ version: 1, runs: runs.slice(0, RUN_HISTORY_MAX_ENTRIES) }));
    const store = new RunHistoryStore(file);
    for (const r of runs.slice(RUN_HISTORY_MAX_ENTRIES)) await store.append(r);
    const listed = await store.list();
    assert.equal(listed.length, RUN_HISTORY_MAX_ENTRIES);
    assert.equal(listed[0].id, `r${RUN_HISTORY_MAX_ENTRIES + 2}`);
    assert.equal(listed.at(-1)?.id, "r3");
    assert.equal(await store.remove("r10"), true);
    assert.equal(await store.remove("r10"), false);
    assert.equal((await store.list()).length, RUN_HISTORY_MAX_ENTRIES - 1);
  });

  it("reports a corrupt history file instead of overwriting it", async () => {
    const file = path.join(dir, "h.json");
    fs.writeFileSync(file, "{not json");
    const store = new RunHistoryStore(file);
    await assert.rejects(store.list(), /not valid JSON/);
    await assert.rejects(store.append(record(1)), /not valid JSON/);
    assert.equal(fs.readFileSync(file, "utf8"), "{not json");
  });
});
