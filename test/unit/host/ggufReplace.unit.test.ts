// Replacing a GGUF's template in place: backup naming, the happy path, and a failure that must
// leave the original where it was.
import assert from "node:assert/strict";
import { promises as fsp } from "node:fs";
import os from "node:os";
import path from "node:path";
import { readGgufFile } from "../../../src/core/gguf";
import { readGgufTemplates } from "../../../src/core/templates/sources";
import { nextBackupPath, replaceTemplateKeepingBackup } from "../../../src/host/templates/ggufReplace";

const ROOT = path.resolve(__dirname, "../../../..");
const LLAMA = path.join(ROOT, "test/fixtures/tiny-llama-f16.gguf");
const KEY = "tokenizer.chat_template";

async function tensorBytes(file: string): Promise<Buffer> {
  const info = await readGgufFile(file);
  return (await fsp.readFile(file)).subarray(info.tensorDataOffset);
}

describe("replaceTemplateKeepingBackup", function () {
  this.timeout(60_000);
  let dir: string;
  beforeEach(async () => { dir = await fsp.mkdtemp(path.join(os.tmpdir(), "gguf-replace-")); });
  afterEach(async () => { await fsp.rm(dir, { recursive: true, force: true }); });

  it("replaces the template, keeps the original bytes as .bak, then .bak-1", async () => {
    const model = path.join(dir, "m.gguf");
    await fsp.copyFile(LLAMA, model);
    const original = await fsp.readFile(model);
    const first = await replaceTemplateKeepingBackup({ source: model, key: KEY, template: "{{ messages[0].content }}" });
    assert.equal(first.backup, `${model}.bak`);
    assert.ok((await fsp.readFile(first.backup)).equals(original));
    assert.equal((await readGgufTemplates(model)).templates.get(KEY), "{{ messages[0].content }}");
    assert.ok((await tensorBytes(model)).equals(await tensorBytes(LLAMA)));
    assert.equal(await nextBackupPath(model), `${model}.bak-1`);
    const second = await replaceTemplateKeepingBackup({ source: model, key: KEY, template: "x" });
    assert.equal(second.backup, `${model}.bak-1`);
    assert.equal((await readGgufTemplates(second.backup)).templates.get(KEY), "{{ messages[0].content }}");
    assert.deepEqual((await fsp.readdir(dir)).sort(), ["m.gguf", "m.gguf.bak", "m.gguf.bak-1"]);
  });

  it("leaves the original in place and no staged file when the write fails", async () => {
    const model = path.join(dir, "m.gguf");
    await fsp.copyFile(LLAMA, model);
    const original = await fsp.readFile(model);
    // general.alignment is a layout key the writer refuses to edit.
    await assert.rejects(replaceTemplateKeepingBackup({ source: model, key: "general.alignment", template: "x" }), /alignment/);
    assert.ok((await fsp.readFile(model)).equals(original));
    assert.deepEqual(await fsp.readdir(dir), ["m.gguf"]);
    const aborted = new AbortController();
    aborted.abort();
    await assert.rejects(replaceTemplateKeepingBackup({ source: model, key: KEY, template: "x", signal: aborted.signal }));
    assert.deepEqual(await fsp.readdir(dir), ["m.gguf"]);
  });

  it("refuses a shard of a split model", async () => {
    await assert.rejects(replaceTemplateKeepingBackup({ source: path.join(dir, "m-00001-of-00002.gguf"), key: KEY, template: "x" }), /split model/);
  });
});
