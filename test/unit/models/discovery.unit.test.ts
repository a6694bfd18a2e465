import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { readGgufFile, llamaFileTypeName } from "../../../src/core/gguf";
import { scanForGguf } from "../../../src/core/models/folderScan";
import { groupModelFiles, modelIdOf, readModelHeaderInfo, SourceCatalog } from "../../../src/core/models/modelCatalog";
import { candidateSources, existingSources, huggingFaceHubCache, huggingFaceRepoOf, llamaCppCache, type SourceSettings } from "../../../src/core/models/modelSources";
import { splitModel, tempDir, tinyLlama, tinyMoe } from "./helpers";

const NO_CACHES: SourceSettings = { workspaceFolders: [], modelFolders: [], scanHuggingFaceCache: false, scanLmStudio: false, scanLlamaCppCache: false };

describe("model discovery (core/models)", () => {
  let dir: string;
  let shards: string[];
  before(function () {
    this.timeout(30_000);
    dir = tempDir("library");
    fs.mkdirSync(path.join(dir, "a", "deep"), { recursive: true });
    fs.copyFileSync(tinyLlama, path.join(dir, "tiny-llama-f16.gguf"));
    fs.copyFileSync(tinyMoe, path.join(dir, "a", "deep", "tiny-moe-f16.gguf"));
    fs.mkdirSync(path.join(dir, "split"));
    shards = splitModel(tinyLlama, path.join(dir, "split"), "tiny-split");
    fs.writeFileSync(path.join(dir, "notes.txt"), "not a model");
    fs.mkdirSync(path.join(dir, "node_modules"));
    fs.copyFileSync(tinyLlama, path.join(dir, "node_modules", "skipped.gguf"));
    // HF-cache style: a snapshot symlink to a blob, and a folder link that loops back.
    const snap = path.join(dir, "hub", "models--org--Tiny-GGUF", "snapshots", "abc123");
    fs.mkdirSync(snap, { recursive: true });
    fs.mkdirSync(path.join(dir, "hub", "models--org--Tiny-GGUF", "blobs"));
    fs.copyFileSync(tinyMoe, path.join(dir, "hub", "models--org--Tiny-GGUF", "blobs", "deadbeef"));
    fs.symlinkSync(path.join("..", "..", "blobs", "deadbeef"), path.join(snap, "tiny-moe-Q8_0.gguf"));
    fs.symlinkSync(dir, path.join(dir, "a", "loop"));
    fs.symlinkSync(path.join(dir, "gone.gguf"), path.join(dir, "dangling.gguf"));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("scans folders recursively, follows file links, survives link loops and skips node_modules", async () => {
    const result = await scanForGguf(dir);
    const found = result.files.map((f) => path.relative(dir, f.path)).sort();
    assert.deepEqual(found, [
      path.join("a", "deep", "tiny-moe-f16.gguf"),
      path.join("hub", "models--org--Tiny-GGUF", "snapshots", "abc123", "tiny-moe-Q8_0.gguf"),
      ...shards.map((s) => path.relative(dir, s)),
      "tiny-llama-f16.gguf",
    ].sort());
    const linked = result.files.find((f) => f.path.endsWith("tiny-moe-Q8_0.gguf"));
    assert.equal(linked?.size, fs.statSync(tinyMoe).size, "size of the blob behind the link");
    assert.deepEqual(result.unreadable, []);
  });

  it("reports a folder that cannot be listed instead of failing", async () => {
    const missing = await scanForGguf(path.join(dir, "does-not-exist"));
    assert.deepEqual(missing.files, []);
    assert.deepEqual(missing.unreadable, [{ path: path.join(dir, "does-not-exist"), message: "folder not found" }]);
  });

  it("skips a folder without read permission and names it", async function () {
    if (process.getuid?.() === 0) this.skip(); // root reads a chmod-000 folder anyway
    const locked = path.join(dir, "locked");
    fs.mkdirSync(locked);
    fs.chmodSync(locked, 0o000);
    try {
      const r = await scanForGguf(dir);
      assert.deepEqual(r.unreadable.map((u) => u.path), [locked]);
      assert.equal(r.unreadable[0].message, "permission denied");
    } finally {
      fs.chmodSync(locked, 0o755);
    }
  });

  it("groups the shards llama-gguf-split wrote into one model and names missing shards", async () => {
    const { files } = await scanForGguf(dir);
    const groups = groupModelFiles(files);
    assert.equal(groups.length, 4, "tiny-llama, tiny-moe, the HF copy and one split set");
    const split = groups.find((g) => g.isSplit);
    assert.ok(split);
    assert.equal(split.id, shards[0]);
    assert.deepEqual(split.shards.map((s) => s.path), shards);
    assert.equal(split.expectedShards, shards.length);
    assert.equal(split.totalSize, shards.reduce((s, p) => s + fs.statSync(p).size, 0));
    assert.deepEqual(split.missingShards, []);
    for (const s of shards) assert.equal(modelIdOf(s), shards[0]);
    const withoutSecond = groupModelFiles(files.filter((f) => f.path !== shards[1]));
    assert.deepEqual(withoutSecond.find((g) => g.isSplit)?.missingShards, [shards[1]]);
  });

  it("updates one file at a time and reads each header once", async () => {
    const reads: string[] = [];
    const catalog = new SourceCatalog(async (p) => {
      reads.push(p);
      return readModelHeaderInfo(p);
    });
    const { files } = await scanForGguf(dir);
    catalog.replaceAll(files);
    for (const g of catalog.groups()) await catalog.info(g);
    for (const g of catalog.groups()) await catalog.info(g);
    assert.equal(reads.length, 4, "one header read per model, cached afterwards");
    assert.equal(catalog.remove(shards[2]), shards[0], "a shard's model id is its first shard");
    assert.deepEqual(catalog.groups().find((g) => g.isSplit)?.missingShards, [shards[2]]);
    const again = files.find((f) => f.path === shards[2]);
    assert.ok(again);
    catalog.upsert(again);
    assert.deepEqual(catalog.groups().find((g) => g.isSplit)?.missingShards, []);
    assert.equal(catalog.removeUnder(path.join(dir, "split")), true);
    assert.equal(catalog.groups().some((g) => g.isSplit), false);
  });

  it("reads architecture and file type from the header", async () => {
    const info = await readModelHeaderInfo(tinyMoe);
    const file = await readGgufFile(tinyMoe);
    assert.equal(info.architecture, file.metadata.get("general.architecture")?.value);
    const ft = file.metadata.get("general.file_type")?.value;
    assert.equal(info.fileType, llamaFileTypeName(Number(ft)).replace(/^MOSTLY_|^ALL_/, ""));
    const bad = await readModelHeaderInfo(path.join(dir, "notes.txt"));
    assert.match(bad.error ?? "", /not a GGUF file/);
  });

  it("finds the caches where the tools put them and lists only existing folders", async () => {
    const home = "/home/u";
    const env = { platform: "linux" as const, home };
    assert.equal(huggingFaceHubCache({ ...env, env: {} }), "/home/u/.cache/huggingface/hub");
    assert.equal(huggingFaceHubCache({ ...env, env: { HF_HOME: "~/hf" } }), "/home/u/hf/hub");
    assert.equal(huggingFaceHubCache({ ...env, env: { HF_HOME: "/x", HF_HUB_CACHE: "/y" } }), "/y");
    assert.equal(llamaCppCache({ ...env, env: {} }), "/home/u/.cache/llama.cpp");
    assert.equal(llamaCppCache({ ...env, env: { LLAMA_CACHE: "/c" } }), "/c");
    assert.equal(llamaCppCache({ home, platform: "darwin", env: {} }), "/home/u/Library/Caches/llama.cpp");
    const all = candidateSources({ workspaceFolders: [{ name: "ws", path: "/ws" }], modelFolders: ["~/models", "rel", "/ws"], scanHuggingFaceCache: true, scanLmStudio: true, scanLlamaCppCache: true }, { ...env, env: {} });
    assert.deepEqual(all.map((s) => [s.kind, s.root]), [
      ["workspace", "/ws"],
      ["folder", "/home/u/models"],
      ["folder", "/ws/rel"],
      ["huggingFace", "/home/u/.cache/huggingface/hub"],
      ["lmStudio", "/home/u/.lmstudio/models"],
      ["lmStudio", "/home/u/.cache/lm-studio/models"],
      ["llamaCpp", "/home/u/.cache/llama.cpp"],
    ]);
    const off = candidateSources({ ...NO_CACHES, modelFolders: [dir, path.join(dir, "nope")] }, { ...env, env: {} });
    assert.deepEqual((await existingSources(off)).map((s) => s.root), [dir]);
    assert.equal(huggingFaceRepoOf(path.join(dir, "hub", "models--org--Tiny-GGUF", "snapshots", "abc123", "x.gguf")), "org/Tiny-GGUF");
    assert.equal(huggingFaceRepoOf(tinyLlama), undefined);
  });
});
